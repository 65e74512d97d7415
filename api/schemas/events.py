"""The run event stream (GET /runs/{run_id}/events), event by event, for the OpenAPI
document: each server-sent event is `event: <name>` and `data: <JSON>`. `: keep-alive`
comments come between them while nothing changes."""

from __future__ import annotations

from typing import Any

from api.schemas.calls import CallEvent, LlmCallEvent, TokenEvent, ToolCallEvent

_REF = "#/components/schemas/"
# Models that only the stream sends, for api/main.py to add to the document's components.
STREAM_EVENT_MODELS = (CallEvent, TokenEvent, LlmCallEvent, ToolCallEvent)


def _event(name: str, description: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": f"{name} event",
        "description": description,
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
        },
        "required": ["event", "data"],
    }


_RUN_ID = {"type": "string"}

RUN_EVENT = {
    "oneOf": [
        _event("snapshot", "The whole run, first", {"$ref": f"{_REF}RunRead"}),
        _event("step", "A step that changed", {"$ref": f"{_REF}StepRead"}),
        _event(
            "call",
            "An LLM or tool call of a running step started (intent) or finished",
            {"$ref": f"{_REF}CallEvent"},
        ),
        _event(
            "token",
            "Text of a running step's LLM call as it streams; a call's texts join to its reply",
            {"$ref": f"{_REF}TokenEvent"},
        ),
        _event(
            "llm_call",
            "An LLM call finished: its model, usage, cost and latency (after its tokens)",
            {"$ref": f"{_REF}LlmCallEvent"},
        ),
        _event(
            "tool_call",
            "A tool call finished: its tool, latency and error",
            {"$ref": f"{_REF}ToolCallEvent"},
        ),
        _event(
            "run",
            "The run's status changed",
            {
                "type": "object",
                "properties": {"run_id": _RUN_ID, "status": {"$ref": f"{_REF}RunStatus"}},
                "required": ["run_id", "status"],
            },
        ),
        _event(
            "error",
            "The stream lost track of the run and ends; reconnect for a new snapshot",
            {
                "type": "object",
                "properties": {"run_id": _RUN_ID, "message": {"type": "string"}},
                "required": ["run_id", "message"],
            },
        ),
    ]
}
