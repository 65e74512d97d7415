"""A streamed LLM reply: each chunk's text goes to the live output as it arrives, and the
chunks are put back together into one reply, which is what the agent and the journal get.

It replaces CrewAI's own streaming handler, which is wrong for a durable step in three
ways: its synchronous path silently asks again without streaming when no chunk came (two
HTTP calls for one turn), its async path returns the text so far when the stream breaks
(a cut-off reply journaled as finished), and it drops the ids of streamed tool calls,
which the next turn's messages refer to. Here a broken stream fails the call, and the
reply is rebuilt with litellm's ``stream_chunk_builder``: text, tool calls with their
ids, and usage (cached tokens included).
"""

from __future__ import annotations

from typing import Any

import litellm
from crewai import LLM
from crewai.events.types.llm_events import LLMCallType
from crewai.utilities.exceptions.context_window_exceeding_exception import (
    LLMContextLengthExceededError,
)
from crewai.utilities.token_counter_callback import TokenCalcHandler

from activities.live_output import CURRENT_CALL


async def stream_reply(
    llm: LLM,
    params: dict[str, Any],
    callbacks: list[Any] | None,
    available_functions: dict[str, Any] | None,
    from_task: Any,
    from_agent: Any,
) -> Any:
    """The reply to one LLM turn, over one streaming HTTP call."""
    params["stream"] = True
    params["stream_options"] = {"include_usage": True}
    live = CURRENT_CALL.get()
    chunks: list[Any] = []
    try:
        async for chunk in await litellm.acompletion(**params):
            chunks.append(chunk)
            piece = _text_of(chunk)
            if piece and live is not None:
                live.add(piece)
    except Exception as exc:
        if LLMContextLengthExceededError._is_context_length_exceeded_error(exc):
            raise LLMContextLengthExceededError(str(exc)) from exc
        raise
    if not chunks:
        return ""  # as an empty reply: CrewAI's executor takes it as an invalid response
    response = litellm.stream_chunk_builder(chunks, messages=params.get("messages"))
    usage = getattr(response, "usage", None)
    if usage is not None:
        llm._track_token_usage_internal(usage)
        for callback in callbacks or []:  # the agent's own token count
            if isinstance(callback, TokenCalcHandler):
                callback.log_success_event(
                    kwargs=params, response_obj={"usage": usage}, start_time=0, end_time=0
                )
    message = response.choices[0].message  # type: ignore[union-attr]
    tool_calls = message.tool_calls or []
    if tool_calls and not available_functions:
        return tool_calls
    if tool_calls and available_functions:
        result = llm._handle_tool_call(tool_calls, available_functions, from_task, from_agent)
        if result is not None:
            return result
    text = message.content or ""
    llm._handle_emit_call_events(
        response=text,
        call_type=LLMCallType.LLM_CALL,
        from_task=from_task,
        from_agent=from_agent,
        messages=params.get("messages"),
        usage=llm._usage_to_dict(usage),
    )
    return text


def _text_of(chunk: Any) -> str | None:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return None
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else None
