"""A step's LLM or tool call as the run's event stream sends it (`call` events)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from db.call_journal import JournalChange
from workflows.task_step import TokenUsage, preview


class CallEvent(BaseModel):
    run_id: str
    step_id: str
    execution: int
    kind: Literal["llm", "tool"]
    call_index: int
    # "intent": a call that is not idempotent is about to be made; "done": it finished.
    status: Literal["intent", "done"]
    name: str  # the model, or the tool
    arguments: dict[str, Any] | None = None
    result_preview: str | None = None  # the whole result is in the step's transcript
    error: str | None = None
    latency_ms: float | None = None
    usage: TokenUsage | None = None

    @classmethod
    def of(cls, run_id: str, change: JournalChange) -> CallEvent:
        record = change.record or {}
        common: dict[str, Any] = {
            "run_id": run_id,
            "step_id": change.step_id,
            "execution": change.execution,
            "call_index": change.call_index,
            "status": change.status,
            "latency_ms": record.get("latency_ms"),
        }
        if change.kind == "llm":
            reply = record.get("tool_calls") or record.get("reply") or ""
            return cls(
                **common,
                kind="llm",
                name=str(record.get("model", "")),
                result_preview=preview(reply if isinstance(reply, str) else json.dumps(reply)),
                usage=TokenUsage.model_validate(record.get("usage") or {}),
            )
        output = record.get("output")
        return cls(
            **common,
            kind="tool",
            name=str(record.get("tool", "")),
            arguments=record.get("arguments"),
            result_preview=None if output is None else preview(output),
            error=record.get("error"),
        )
