"""The worker's supervisor (worker/supervisor.py): what it does when its worker exits by
itself, and how it paces a crash loop. A killed worker forked again mid-run is in
test_crash_recovery.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from worker.supervisor import MAX_PAUSE_SECONDS, crash_loop_pause


def test_a_worker_that_exits_by_itself_ends_its_supervisor_with_its_code(tmp_path: Path) -> None:
    """A worker that refuses to start (no key for the stored secrets) is not forked again
    and again: its supervisor exits with its code and message, for the one above it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KASAL_", "TEMPORAL_"))}
    env |= {"KASAL_DATA_DIR": str(tmp_path), "KASAL_WORKER_SUPERVISOR": "true"}
    finished = subprocess.run(
        [sys.executable, "-m", "worker"], env=env, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 1, finished.stderr
    assert "kasal worker:" in finished.stderr
    assert "forking another" not in finished.stderr


def test_a_crash_loop_is_paced_from_its_second_quick_death() -> None:
    """One worker killed soon after it started is forked again at once; each further
    quick death in a row doubles the pause, up to its ceiling."""
    pauses = [crash_loop_pause(n) for n in range(10)]
    assert pauses[:2] == [0.0, 0.0]
    assert pauses[2:5] == [1.0, 2.0, 4.0]
    assert pauses[-1] == MAX_PAUSE_SECONDS
    assert pauses == sorted(pauses)
