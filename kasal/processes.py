"""Signals and child processes, handled the same way by every long-running `kasal` command.

Each command turns SIGTERM into the KeyboardInterrupt that Ctrl-C already raises, so one
``except KeyboardInterrupt`` / ``finally`` path stops its children whichever signal came.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn


def _raise_interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise KeyboardInterrupt.

    SIGINT too, because a shell starting a background job hands it SIGINT ignored.
    """
    with _handled_by(_raise_interrupt):
        yield


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while shutting down.

    A second Ctrl-C must not abort the shutdown half-way and leave children running;
    every wait inside the block is bounded, so ignoring it costs at most those bounds.
    """
    with _handled_by(signal.SIG_IGN):
        yield


@contextmanager
def _handled_by(
    handler: Callable[[int, FrameType | None], Any] | signal.Handlers,
) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` within the block, and back afterwards."""
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends; they are delivered then.

    For native code that must not be interrupted half-way. Threads it starts inherit
    the blocked mask, so the signals keep going to the main thread afterwards.
    """
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_process(
    process: subprocess.Popen[bytes], timeout: float, *, kill_group: bool = False
) -> int:
    """SIGTERM ``process``, wait up to ``timeout`` seconds, then SIGKILL it; return its exit code.

    With ``kill_group`` (for a child started with ``start_new_session=True``) the SIGKILL
    goes to its whole process group, so grandchildren such as the Temporal binary under
    `kasal temporal` cannot outlive a child that had to be killed.
    """
    if process.poll() is not None:
        return process.returncode
    process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    if kill_group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    return process.wait()
