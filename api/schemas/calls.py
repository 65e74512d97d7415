"""A step's LLM and tool calls as the run's event stream sends them: `call` events (started
or finished), `llm_call` and `tool_call` (finished) and `token` (an LLM call's text as it
streams)."""

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


class TokenEvent(BaseModel):
    """Text of an LLM call while it streams (`token` events): in order, a call's texts
    join to its reply, and its `llm_call` event comes after them."""

    run_id: str
    step_id: str
    execution: int
    attempt: int
    call_index: int
    text: str


class LlmCallEvent(BaseModel):
    """An LLM call that finished (`llm_call` events): what it used, cost and took."""

    run_id: str
    step_id: str
    execution: int
    attempt: int
    call_index: int
    model: str
    usage: TokenUsage
    latency_ms: float | None = None

    @classmethod
    def of(cls, run_id: str, change: JournalChange) -> LlmCallEvent:
        record = change.record or {}
        return cls(
            run_id=run_id,
            step_id=change.step_id,
            execution=change.execution,
            attempt=change.attempt,
            call_index=change.call_index,
            model=str(record.get("model", "")),
            usage=TokenUsage.model_validate(record.get("usage") or {}),
            latency_ms=record.get("latency_ms"),
        )


class ToolCallEvent(BaseModel):
    """A tool call that finished (`tool_call` events): how long it took, and its error."""

    run_id: str
    step_id: str
    execution: int
    attempt: int
    call_index: int
    tool: str
    latency_ms: float | None = None
    error: str | None = None

    @classmethod
    def of(cls, run_id: str, change: JournalChange) -> ToolCallEvent:
        record = change.record or {}
        return cls(
            run_id=run_id,
            step_id=change.step_id,
            execution=change.execution,
            attempt=change.attempt,
            call_index=change.call_index,
            tool=str(record.get("tool", "")),
            latency_ms=record.get("latency_ms"),
            error=record.get("error"),
        )
