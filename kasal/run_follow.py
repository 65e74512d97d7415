"""`kasal run --follow`: the run's server-sent events, read until the run closes.

Each change is a line (a step's new status, a finished LLM or tool call, the run's
status) printed above a live table of the steps. A run waiting for approval or paused
on a failure is still open: following goes on, and says what it waits for and which
command moves it on. If the stream breaks (the API restarted, the stream reported an
error), following reconnects; the new snapshot tells it where the run stands, and only
what changed is printed. With --json every event is one JSON line instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.live import Live

from kasal.cli_api import EXIT_UNREACHABLE, Api
from kasal.run_views import OPEN, duration, hint, status_text, steps_table, tokens

# Reconnects in a row without news before following gives up.
MAX_RECONNECTS = 5


def server_sent_events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs from an event stream's lines; comments are keep-alives."""
    event = "message"
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


class Follower:
    """What is known of the run, and the lines each new event adds."""

    def __init__(self, run_id: str, out: Console) -> None:
        self.run_id = run_id
        self.out = out
        self.status: str | None = None
        self.steps: dict[str, dict[str, Any]] = {}

    def apply(self, event: str, data: Any) -> None:
        if event == "snapshot":
            self._run_status(data["status"])
            for step in data["steps"]:
                self._step(step)
        elif event == "step":
            self._step(data)
        elif event == "call":
            self._call(data)
        elif event == "run":
            self._run_status(data["status"])
        elif event == "error":
            self.out.print(f"[yellow]{data.get('message', 'the event stream broke')}[/]")

    def _say(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.out.print(f"[dim]{stamp}[/] {text}")

    def _run_status(self, status: str) -> None:
        if status != self.status:
            self._say(f"run {self.run_id} is [{status_text(status).style}]{status}[/]")
        self.status = status

    def _step(self, step: dict[str, Any]) -> None:
        before = self.steps.get(step["id"], {})
        self.steps[step["id"]] = step
        status = step.get("status", "")
        if before.get("status") == status and before.get("attempt") == step.get("attempt"):
            return
        if status == "pending" and not before:
            return
        parts = [f"[bold]{step['id']}[/]", f"[{status_text(status).style}]{status}[/]"]
        if step.get("attempt", 0) > 1:
            parts.append(f"attempt {step['attempt']}")
        if step.get("finished_at"):
            parts.append(duration(step))
        if tokens(step):
            parts.append(f"{tokens(step)} tokens")
        self._say("  ".join(parts))
        if (waiting := hint(self.run_id, step)) is not None:
            self.out.print(f"[yellow]{waiting}[/]")

    def _call(self, call: dict[str, Any]) -> None:
        usage = call.get("usage") or {}
        parts = [f"  {call['step_id']}", f"{call['kind']} {call['name']}", call["status"]]
        if usage.get("total_tokens"):
            parts.append(f"{usage['total_tokens']} tokens")
        if call.get("latency_ms") is not None:
            parts.append(f"{call['latency_ms']:.0f} ms")
        if call.get("error"):
            parts.append(f"error: {call['error']}")
        self._say("[dim]" + "  ".join(parts) + "[/]")

    def table(self) -> Any:
        return steps_table(list(self.steps.values()))


def follow(api: Api, run_id: str, out: Console) -> str:
    """Follow the run until it closes; its closing status."""
    if api.as_json:
        return _follow_events(api, run_id, _json_line)
    follower = Follower(run_id, out)
    with Live(console=out, get_renderable=follower.table, refresh_per_second=4):
        return _follow_events(api, run_id, follower.apply)


def _json_line(event: str, data: Any) -> None:
    import typer

    typer.echo(json.dumps({"event": event, "data": data}))


def _follow_events(api: Api, run_id: str, on_event: Callable[[str, Any], None]) -> str:
    status, quiet_streams = "running", 0
    while True:
        with api.stream(f"/runs/{run_id}/events") as response:
            for event, data in server_sent_events(response.iter_lines()):
                on_event(event, data)
                if event in {"snapshot", "run"}:
                    status = data["status"]
                if event in {"step", "call", "run"}:
                    quiet_streams = 0
        if status not in OPEN:
            return status
        # The stream ended with the run still open: reconnect, and its snapshot says
        # where the run stands. A stream that keeps breaking with no news is given up.
        quiet_streams += 1
        if quiet_streams >= MAX_RECONNECTS:
            api.fail(EXIT_UNREACHABLE, f"lost the event stream of run {run_id}")
        time.sleep(min(2**quiet_streams, 10))
