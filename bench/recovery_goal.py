"""P6: recovery after a worker SIGKILL (bench/recovery.py measures it): from the kill to
the run completed, with a second worker already polling (standby) and with the only
worker restarted at the kill (respawn); goal ≤ 10 s and no finished step run again."""

from __future__ import annotations

from bench import recovery
from bench.report import Figure

GOAL_SECONDS = 10.0


async def p6() -> Figure:
    measured = await recovery.main()
    standby, respawn = measured["standby"], measured["respawn"]
    worst = max(
        standby["kill_to_completed_seconds_median"], respawn["kill_to_completed_seconds_median"]
    )
    rerun = standby["finished_steps_rerun"] + respawn["finished_steps_rerun"]
    timeout = measured["heartbeat_timeout_seconds"]
    return Figure(
        case="P6",
        what="recovery after a worker SIGKILL: kill → run completed (median, worst case)",
        figure=(
            f"{worst} s ({round(worst / timeout, 2)}x the {timeout:g} s heartbeat timeout); "
            f"{rerun} finished steps re-run"
        ),
        goal=f"≤ {GOAL_SECONDS:g} s, 0 re-run",
        met=worst <= GOAL_SECONDS and rerun == 0,
        details=measured,
    )
