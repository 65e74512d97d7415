"""How the CLI draws runs and steps (the API's JSON, as dicts): the steps table that
`kasal show` prints and `kasal run --follow` keeps live, and the one-line notes on what a
step waits for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from rich.text import Text

CLOSED_OK = {"completed"}
OPEN = {"running", "waiting_for_approval", "needs_attention"}
STYLES = {
    "completed": "green",
    "approved": "green",
    "running": "cyan",
    "waiting": "yellow",
    "waiting_for_approval": "yellow",
    "paused": "magenta",
    "needs_attention": "magenta",
    "failed": "red",
    "rejected": "red",
    "cancelled": "red",
    "terminated": "red",
    "timed_out": "red",
    "skipped": "dim",
    "not_taken": "dim",
    "pending": "dim",
}


def status_text(status: str) -> Text:
    return Text(status, style=STYLES.get(status, ""))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def duration(step: dict[str, Any], now: datetime | None = None) -> str:
    """How long the step ran (so far, while it runs); blank before it starts."""
    started = _time(step.get("started_at"))
    if started is None:
        return ""
    finished = _time(step.get("finished_at"))
    end = finished or (now or datetime.now(UTC))
    seconds = max((end - started).total_seconds(), 0.0)
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def tokens(step: dict[str, Any]) -> str:
    usage = step.get("usage") or {}
    total = usage.get("total_tokens") or 0
    return str(total) if total else ""


def note(step: dict[str, Any]) -> str:
    """What a person should know about the step: what it waits for, why it failed."""
    status = step.get("status")
    if status == "waiting":
        return f"waiting for approval: {step.get('message') or ''}".strip()
    if status in {"paused", "failed"} and step.get("error"):
        return str(step["error"]).splitlines()[0][:200]
    if step.get("branch"):
        return f"took {step['branch']}"
    if step.get("items_total") is not None:
        return f"{step.get('items_done', 0)}/{step['items_total']} items"
    if step.get("iteration"):
        return f"iteration {step['iteration']}"
    if step.get("child_status"):
        return f"child run {step['child_status']}"
    return ""


def steps_table(steps: list[dict[str, Any]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("step", "type", "status", "attempt", "duration", "tokens", "note"):
        table.add_column(column, no_wrap=column != "note")
    now = datetime.now(UTC)
    for step in steps:
        table.add_row(
            step["id"],
            step.get("type", ""),
            status_text(step.get("status", "")),
            str(step.get("attempt") or ""),
            duration(step, now),
            tokens(step),
            note(step),
        )
    return table


def hint(run_id: str, step: dict[str, Any]) -> str | None:
    """The commands that move a step on, when it waits for a person."""
    status, step_id = step.get("status"), step["id"]
    if status == "waiting":
        who = ", ".join(step.get("approvers") or []) or "an operator"
        seen = f" --round {step['round']}" if step.get("round") else ""
        return (
            f"{step_id} waits for approval by {who}: {step.get('message') or ''}\n"
            f"  kasal approve {run_id} {step_id}{seen} [-m COMMENT]  |  "
            f"kasal reject {run_id} {step_id}{seen} -m WHY"
        )
    if status == "paused":
        seen = f" --execution {step['execution']}" if step.get("execution") else ""
        return (
            f"{step_id} is paused ({step.get('pause_reason') or 'failure'}): "
            f"{step.get('error') or ''}\n"
            f"  kasal retry {run_id} {step_id}{seen}  |  "
            f"kasal skip {run_id} {step_id}{seen} --output TEXT"
            f"  |  kasal logs {run_id} {step_id}"
        )
    return None


def why_not_completed(run: dict[str, Any]) -> str:
    """The reason a closed run did not complete, from its steps."""
    status = run.get("status", "")
    reasons = []
    for step in run.get("steps", []):
        if step.get("status") == "failed":
            reasons.append(f"{step['id']} failed: {step.get('error') or 'no error recorded'}")
        elif step.get("status") == "rejected":
            comments = [d.get("comment") for d in step.get("decisions", []) if d.get("comment")]
            said = f" ({comments[-1]})" if comments else ""
            reasons.append(f"{step['id']} was rejected{said}")
    ended = f"run {run.get('run_id')} ended {status}"
    return f"{ended}: {'; '.join(reasons)}" if reasons else ended


def print_transcript(out: Any, transcript: dict[str, Any], prompts: bool) -> None:
    """Each attempt, then its calls: the model's replies, the tools' results."""
    attempts = transcript.get("attempts", [])
    if not attempts:
        out.print("no finished attempt yet")
    for attempt in attempts:
        out.rule(
            f"execution {attempt['execution']}, attempt {attempt['attempt']}  "
            f"{attempt['started_at']} → {attempt['finished_at']}"
        )
        for entry in attempt.get("entries", []):
            replayed = " (replayed from the journal)" if entry.get("replayed") else ""
            if entry["kind"] == "llm":
                usage = entry.get("usage") or {}
                out.print(
                    f"[bold]llm {entry['model']}[/] {usage.get('total_tokens', 0)} tokens, "
                    f"{entry.get('latency_ms', 0):.0f} ms{replayed}"
                )
                if prompts:
                    for message in entry.get("messages", []):
                        out.print(f"[dim]{message.get('role')}:[/] {message.get('content')}")
                out.print(Text(entry.get("reply") or json.dumps(entry.get("tool_calls"))))
            else:
                out.print(f"[bold]tool {entry['tool']}[/] {json.dumps(entry.get('arguments'))}")
                out.print(Text(str(entry.get("error") or entry.get("output") or "")))
        if attempt.get("error"):
            out.print(f"[red]error: {attempt['error']}[/]")
