"""What the worker's activities count for its /metrics (README, Metrics): LLM calls, their
tokens and cost, and tool calls, each where a call is really made.

Counted here and never in workflow code, which is replayed. A call answered from the call
journal (a retried attempt's replay) was made and counted once already, so the callers
count only calls they made. The metrics live in prometheus_client's default registry,
which the worker's /metrics serves with the process's own and the Temporal SDK's.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from workflows.task_step import MICROS_PER_USD, LLMCall

LLM_CALLS = Counter("kasal_llm_calls", "LLM calls made (not replayed from the journal)", ["model"])
LLM_TOKENS = Counter(
    "kasal_llm_tokens",
    "Tokens of the LLM calls made; cached is the part of prompt served from the cache",
    ["model", "kind"],
)
LLM_COST = Counter("kasal_llm_cost_usd", "What the LLM calls made cost, in US dollars", ["model"])
TOOL_CALLS = Counter(
    "kasal_tool_calls", "Tool calls made (not replayed from the journal)", ["tool"]
)
STEP_DURATION = Histogram(
    "kasal_step_duration_seconds",
    "How long one attempt of a task step ran on this worker, failed attempts included",
    # Steps are LLM turns: seconds to many minutes.
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
ACTIVITY_SLOTS_USED = Gauge(
    "kasal_activity_slots_used",
    "Activities running on this worker now, of its KASAL_MAX_CONCURRENT_ACTIVITIES",
)


def record_llm_call(entry: LLMCall) -> None:
    """Count one LLM call made, with what it used and cost."""
    model = entry.model
    usage = entry.usage
    LLM_CALLS.labels(model=model).inc()
    LLM_TOKENS.labels(model=model, kind="prompt").inc(usage.prompt_tokens)
    LLM_TOKENS.labels(model=model, kind="completion").inc(usage.completion_tokens)
    LLM_TOKENS.labels(model=model, kind="cached").inc(usage.cached_tokens)
    LLM_COST.labels(model=model).inc(usage.cost_micros / MICROS_PER_USD)


def record_tool_call(tool: str) -> None:
    """Count one tool call made (its outcome known, an error included)."""
    TOOL_CALLS.labels(tool=tool).inc()
