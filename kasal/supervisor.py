"""Several child processes in one terminal, each output line prefixed with its name.

Every child leads its own session, so Ctrl-C in the terminal reaches only the supervisor,
which then stops the children in reverse start order: the worker finishes talking to
Temporal before Temporal goes away.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, NoReturn

import typer

from kasal.probes import POLL_INTERVAL_SECONDS, wait_for
from kasal.processes import stop_process

# How long to let a stopped child's last lines drain to the terminal.
_READER_JOIN_SECONDS = 2.0


class ChildExitedError(RuntimeError):
    """A child that should have kept running exited, or a one-off step failed."""


def format_line(name: str, line: str, width: int, colour: str | None) -> str:
    """``line`` behind a ``name |`` label padded to ``width``, the label in ``colour``.

    The colour is an ANSI escape; `typer.echo` drops it when the output is not a terminal.
    """
    label = f"{name:<{width}} |"
    if colour is not None:
        label = typer.style(label, fg=colour, bold=True)
    return f"{label} {line}"


@dataclass(frozen=True)
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    reader: threading.Thread
    # A service runs until stopped; a step (a migration, the seed) runs to completion.
    service: bool


class Supervisor:
    """Starts children with one environment and relays their output, line by line."""

    def __init__(self, env: Mapping[str, str], colours: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._colours = dict(colours)
        self._width = max(map(len, colours))
        self._children: list[_Child] = []
        # Reader threads and the main thread write whole lines, never interleaved ones.
        self._output = threading.Lock()

    def say(self, name: str, line: str) -> None:
        text = format_line(name, line, self._width, self._colours.get(name))
        with self._output:
            typer.echo(text)

    def _spawn(self, name: str, argv: Sequence[str], service: bool) -> _Child:
        process = subprocess.Popen(
            argv,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert process.stdout is not None  # stdout=PIPE
        reader = threading.Thread(
            target=self._relay, args=(name, process.stdout), name=f"relay-{name}", daemon=True
        )
        reader.start()
        child = _Child(name, process, reader, service)
        self._children.append(child)
        return child

    def _relay(self, name: str, stream: IO[bytes]) -> None:
        with stream:
            for raw in stream:
                self.say(name, raw.decode(errors="replace").rstrip("\r\n"))

    def start(self, name: str, argv: Sequence[str]) -> None:
        """Start a service: it must keep running until `stop_all`."""
        self._spawn(name, argv, service=True)

    def run(self, name: str, argv: Sequence[str], timeout: float) -> None:
        """Run a step to completion; raise ChildExitedError if it fails."""
        child = self._spawn(name, argv, service=False)
        self.wait_for(
            lambda: child.process.poll() is not None,
            timeout=timeout,
            what=f"{name} to finish",
        )
        child.reader.join(_READER_JOIN_SECONDS)
        if child.process.returncode != 0:
            raise ChildExitedError(f"{name} failed with exit code {child.process.returncode}")

    def check(self) -> None:
        """Raise ChildExitedError if a service has exited."""
        for child in self._children:
            code = child.process.poll()
            if child.service and code is not None:
                raise ChildExitedError(f"{child.name} exited unexpectedly with code {code}")

    def wait_for(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float,
        what: str,
        interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        """Like `probes.wait_for`, but give up as soon as any service exits."""
        wait_for(condition, timeout=timeout, what=what, check=self.check, interval=interval)

    def watch(self) -> NoReturn:
        """Wait until a service exits (ChildExitedError) or a signal interrupts."""
        while True:
            self.check()
            time.sleep(POLL_INTERVAL_SECONDS)

    def stop_all(self, timeout: float) -> None:
        """Stop every child still running, newest first: SIGTERM, then SIGKILL after ``timeout``."""
        for child in reversed(self._children):
            if child.process.poll() is None:
                code = stop_process(child.process, timeout, kill_group=True)
                if code == -signal.SIGKILL:
                    self.say(child.name, f"did not stop within {timeout:g}s: killed")
            child.reader.join(_READER_JOIN_SECONDS)
