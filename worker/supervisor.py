"""Start a killed worker again in milliseconds, not in the seconds its imports take.

`python -m worker` imports CrewAI, litellm and the rest once (6-16 s on two cores), then
forks the worker from that process and stays beside it as its supervisor. When the worker
dies by a signal (SIGKILL, the kernel's OOM killer, a crash in native code), the
supervisor forks another at once with every module already loaded: the step in flight
is retried as soon as its heartbeat timeout notices, instead of after a fresh start-up.

A worker that exits by itself (stopped, a missing key, Temporal gone for too long) ends
the supervisor with its exit code, for the supervisor above (compose, systemd,
Kubernetes) to decide. SIGTERM and SIGINT go to the worker, which shuts down gracefully.
The worker dies with its supervisor, so killing the supervisor kills the worker.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import FrameType

from activities.tools.pdeathsig_exec import die_with_parent

log = logging.getLogger("kasal.worker.supervisor")

# Workers that die one after another, each sooner than this after it was forked, are
# crashing at start-up or on every step: from the second, fork the next after a pause,
# doubled each time up to MAX_PAUSE_SECONDS, rather than in a tight loop. One quick death
# alone (a worker killed soon after it started) is forked again at once.
QUICK_DEATH_SECONDS = 10.0
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 30.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def can_supervise() -> bool:
    """Linux only: fork after loading these libraries is safe there, and the worker can ask
    the kernel to kill it when its supervisor dies (PR_SET_PDEATHSIG)."""
    return sys.platform == "linux"


def become_supervised_worker() -> None:
    """Return in a worker process forked from this one. This process supervises: it forks
    the worker again whenever one is killed, and exits with the worker's code once one
    exits by itself or is stopped; it never returns."""
    supervisor = os.getpid()
    stop_signal: int | None = None
    worker = 0

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_signal
        stop_signal = signum
        if worker:
            _signal_quietly(worker, signum)

    inherited = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    quick_deaths = 0
    while True:
        forked_at = time.monotonic()
        worker = os.fork()
        if worker == 0:
            for sig, handler in inherited.items():
                signal.signal(sig, handler)
            # No orphaned worker keeps polling after its supervisor was killed.
            die_with_parent(signal.SIGKILL, supervisor)
            return
        if stop_signal is not None:  # it came between the fork and `worker` being set
            _signal_quietly(worker, stop_signal)
        status = _reap_until(worker)
        lived = time.monotonic() - forked_at
        if stop_signal is not None or not os.WIFSIGNALED(status):
            raise SystemExit(_exit_code(status))
        quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
        pause = crash_loop_pause(quick_deaths)
        log.warning(
            "worker process %d was killed by %s after %.1f s; forking another%s",
            worker,
            signal.Signals(os.WTERMSIG(status)).name,
            lived,
            f" in {pause:g} s" if pause else "",
        )
        worker = 0
        time.sleep(pause)
        if stop_signal is not None:  # stopped while it paused: nothing to shut down
            raise SystemExit(0)


def crash_loop_pause(quick_deaths: int) -> float:
    """How long to wait before forking again after this many quick deaths in a row."""
    if quick_deaths < 2:
        return 0.0
    return min(FIRST_PAUSE_SECONDS * 2 ** (quick_deaths - 2), MAX_PAUSE_SECONDS)


def _reap_until(worker: int) -> int:
    """Wait for the worker to end; its wait status. As a container's PID 1 the supervisor
    also inherits what the worker started and left behind (a stdio MCP server's wrapper):
    reaping those too keeps them from staying as zombies."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == worker:
            return status


def _signal_quietly(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass  # it has just exited; waitpid reports how


def _exit_code(status: int) -> int:
    """The worker's exit code; a signal's death as a shell reports it (128 + the signal)."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
