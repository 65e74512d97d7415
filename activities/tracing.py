"""Spans of a step's LLM calls and tool calls, under the activity's span (Temporal's
TracingInterceptor) in the run's trace (kasal/tracing.py).

Without an OTLP endpoint no tracer provider is installed and these are the OpenTelemetry
API's no-op spans. A call answered from the call journal gets no span: it made no
request; the step's transcript marks it replayed.

LLM spans follow the GenAI semantic conventions. No span carries a message, a tool's
arguments or output, a key or a header, and a failure is named by its type only: any of
them may hold a secret or whatever a run's inputs held.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import litellm
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from workflows.task_step import LLMCall

T = TypeVar("T")

TRACER = trace.get_tracer("kasal.activities")
# Not (yet) in the GenAI conventions: what the call cost, as TokenUsage counts it.
COST_MICROS = "kasal.llm.cost_micros"
CACHED_TOKENS = "kasal.llm.cached_tokens"


@contextmanager
def llm_span(model: str) -> Iterator[Span]:
    """A span around one request to a model; fill it in with ``set_llm_usage``."""
    with TRACER.start_as_current_span(
        f"chat {model}",
        kind=SpanKind.CLIENT,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.system": provider_of(model),
            "gen_ai.request.model": model,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        with _failure_named(span):
            yield span


def set_llm_usage(span: Span, call: LLMCall) -> None:
    """The call's usage and cost, from its transcript entry."""
    usage = call.usage
    span.set_attributes(
        {
            "gen_ai.usage.input_tokens": usage.prompt_tokens,
            "gen_ai.usage.output_tokens": usage.completion_tokens,
            CACHED_TOKENS: usage.cached_tokens,
            COST_MICROS: usage.cost_micros,
        }
    )


async def traced_tool_call(tool: str, call: Awaitable[T]) -> T:
    """Await one tool call (which has not started yet) inside its span."""
    with TRACER.start_as_current_span(
        f"execute_tool {tool}",
        kind=SpanKind.INTERNAL,
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        with _failure_named(span):
            return await call


def provider_of(model: str) -> str:
    """The provider litellm routes a model name to: its prefix (``openai/gpt-4o``), else
    what litellm's model map says (``claude-3-5-sonnet-20240620``)."""
    if "/" in model:
        return model.partition("/")[0]
    known = litellm.model_cost.get(model) or {}
    return str(known.get("litellm_provider") or "unknown")


@contextmanager
def _failure_named(span: Span) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        span.set_attribute("error.type", type(exc).__name__)
        raise
