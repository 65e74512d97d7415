"""P6: recovery after a worker SIGKILL (bench/recovery.py measures it): from the kill to
the run completed, with a second worker already polling (standby) and with the only
worker process killed and forked again by its supervisor (respawn); goal ≤ 10 s and no
finished step run again. A kill of the supervisor too, with a new process started at
that moment (cold), is reported beside them: its figure is the machine's import time."""

from __future__ import annotations

from bench import recovery
from bench.report import Figure

GOAL_SECONDS = 10.0


async def p6() -> Figure:
    measured = await recovery.main()
    standby, respawn, cold = measured["standby"], measured["respawn"], measured["cold"]
    worst = max(
        standby["kill_to_completed_seconds_median"], respawn["kill_to_completed_seconds_median"]
    )
    rerun = sum(case["finished_steps_rerun"] for case in (standby, respawn, cold))
    timeout = measured["heartbeat_timeout_seconds"]
    return Figure(
        case="P6",
        what="recovery after a worker SIGKILL: kill → run completed (median, worst case)",
        figure=(
            f"{worst} s ({round(worst / timeout, 2)}x the {timeout:g} s heartbeat timeout); "
            f"{rerun} finished steps re-run; with its supervisor killed too and a new "
            f"process started: {cold['kill_to_completed_seconds_median']} s (start-up "
            f"{cold['worker_start_up_seconds_median']} s)"
        ),
        goal=f"≤ {GOAL_SECONDS:g} s, 0 re-run",
        met=worst <= GOAL_SECONDS and rerun == 0,
        details=measured,
    )
