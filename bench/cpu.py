"""CPU time per process, read from /proc: where a bench case's runs spend the machine.

A throughput figure alone cannot say whether a ratio is the code's or the machine's;
the CPU each process spends per run can. On N cores no stack completes more than
N / (its CPU seconds per run) runs a second, and no single Python process more than
1 / (its own), its GIL being one core's worth."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has spent so far."""
    # The command name (field 2) may hold spaces: the fields after it start after ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_named(name: str) -> int | None:
    """The pid of this process's child whose command is ``name``, if there is one."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        command, _, rest = stat.partition("(")[2].rpartition(")")
        if command == name and int(rest.split()[1]) == os.getpid():
            return int(entry.name)
    return None


class CpuMeter:
    """CPU seconds each named process spends between ``__init__`` and ``per_run``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self._before = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def per_run(self, runs: int) -> dict[str, float]:
        """Milliseconds of CPU a run cost each process, and what that allows: the runs a
        second the cores allow (``cores_allow``) and the busiest process allows alone
        (``one_process_allows``)."""
        spent = {name: cpu_seconds(pid) - self._before[name] for name, pid in self._pids.items()}
        per_run = {name: round(1000 * seconds / max(runs, 1), 1) for name, seconds in spent.items()}
        total, busiest = sum(per_run.values()), max(per_run.values())
        cores = os.cpu_count() or 1
        return {
            **{f"{name}_cpu_ms_per_run": ms for name, ms in per_run.items()},
            "cores_allow_runs_per_second": round(1000 * cores / total, 1) if total else 0.0,
            "one_process_allows_runs_per_second": round(1000 / busiest, 1) if busiest else 0.0,
        }
