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
    text, tool_calls, usage = _reply_of(chunks, params.get("messages"))
    if usage is not None:
        llm._track_token_usage_internal(usage)
        for callback in callbacks or []:  # the agent's own token count
            if isinstance(callback, TokenCalcHandler):
                callback.log_success_event(
                    kwargs=params, response_obj={"usage": usage}, start_time=0, end_time=0
                )
    if tool_calls and not available_functions:
        return tool_calls
    if tool_calls and available_functions:
        result = llm._handle_tool_call(tool_calls, available_functions, from_task, from_agent)
        if result is not None:
            return result
    llm._handle_emit_call_events(
        response=text,
        call_type=LLMCallType.LLM_CALL,
        from_task=from_task,
        from_agent=from_agent,
        messages=params.get("messages"),
        usage=llm._usage_to_dict(usage),
    )
    return text


def _reply_of(chunks: list[Any], messages: Any) -> tuple[str, list[Any], Any]:
    """The reply's text, its tool calls and its usage.

    A reply of text alone is its pieces joined, with the usage litellm sends in the
    stream's last chunk (it builds the whole reply itself to count it). Only a reply
    with tool calls goes through ``stream_chunk_builder`` again, for their ids and the
    arguments streamed in pieces: rebuilding every reply cost each call about 1.5 ms.
    """
    if not any(_calls_tools(chunk) for chunk in chunks):
        usage = next((u for c in reversed(chunks) if (u := getattr(c, "usage", None))), None)
        if usage is not None:
            return "".join(filter(None, map(_text_of, chunks))), [], usage
    response = litellm.stream_chunk_builder(chunks, messages=messages)
    message = response.choices[0].message  # type: ignore[union-attr]
    return message.content or "", message.tool_calls or [], getattr(response, "usage", None)


def _calls_tools(chunk: Any) -> bool:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return bool(getattr(delta, "tool_calls", None) or getattr(delta, "function_call", None))


def _text_of(chunk: Any) -> str | None:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return None
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else None
