"""The contract between the workflow and the ``run_task_step`` activity.

These types live here, not in ``activities/``, so that the workflow, the worker and
the API share them without importing CrewAI or litellm.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from workflows.definition import AgentSpec
from workflows.tools import PinnedTool

RUN_TASK_STEP = "run_task_step"

PREVIEW_CHARS = 1000
# Outputs longer than a preview travel by reference (a blob id) everywhere: activity
# inputs, workflow state, queries, results and the state carried over continue-as-new.
# So a run's state holds previews only, and a join of hundreds of steps stays small.
INLINE_OUTPUT_LIMIT = PREVIEW_CHARS


def preview(text: str) -> str:
    """The start of a large text, shown where the whole does not travel."""
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


MICROS_PER_USD = 1_000_000


class TokenUsage(BaseModel):
    """What LLM calls used and cost: one call's, or summed over an attempt, a step or a
    run. ``cached_tokens`` are the part of ``prompt_tokens`` the provider served from its
    cache. Cost is in micro-dollars, an integer, so that sums are exact."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    llm_calls: int = 0
    cost_micros: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage.sum_of((self, other))

    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS_PER_USD

    @classmethod
    def sum_of(cls, usages: Iterable[TokenUsage | None]) -> TokenUsage:
        """The sum, counted in plain integers and built once: a run's usage is summed
        after every event, and one model per step added was 64 ms at 10,000 steps."""
        prompt = completion = cached = total = calls = cost = 0
        for usage in usages:
            if usage is None:
                continue
            prompt += usage.prompt_tokens
            completion += usage.completion_tokens
            cached += usage.cached_tokens
            total += usage.total_tokens
            calls += usage.llm_calls
            cost += usage.cost_micros
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            cached_tokens=cached,
            total_tokens=total,
            llm_calls=calls,
            cost_micros=cost,
        )


class Allowance(BaseModel):
    """What a step may spend of its run's budget; None: that one is not limited."""

    cost_micros: int | None = None
    tokens: int | None = None


# The update a running step asks its run for more of the budget with.
REQUEST_ALLOWANCE = "request_allowance"


class AllowanceRequest(BaseModel):
    """A running step asks its run for more of the budget (the ``request_allowance``
    update): ``needed`` more than its allowance, for the call it is about to make."""

    step_id: str
    execution: int
    needed: Allowance


class StepContext(BaseModel):
    """An upstream task's output, handed to the next task as context."""

    step_id: str
    output: str  # the whole output, or a preview when output_ref is set
    output_ref: str | None = None


class RunTaskStepInput(BaseModel):
    run_id: str
    step_id: str
    agent: AgentSpec
    description: str
    expected_output: str
    # AgentWorkflow (v1) sends the run's inputs; the activity never read them, and v2 doesn't.
    inputs: dict[str, str] = {}
    context: list[StepContext] = []
    feedback: str | None = None  # a reviewer's comment when a gate sent the step back
    tools: list[PinnedTool] = []  # the agent's tools, as the plan pinned them
    # The run's workspace: whose model configs the step's agent uses.
    workspace: str = "default"
    # The run's workflow, whose name its calls are counted under on the usage page.
    workflow_id: str = ""
    workflow_name: str = ""
    # The step's JSON Schema: its answer is then parsed, validated and repaired once.
    output_schema: dict[str, Any] | None = None
    # What it may spend of the run's budget (None: no budget), and the execution whose
    # call journal it continues (None: its own).
    allowance: Allowance | None = None
    journal_execution: int | None = None


class LLMCall(BaseModel):
    kind: Literal["llm"] = "llm"
    model: str
    messages: list[dict[str, Any]]
    reply: str
    # A reply that asks for tools (native function calling) instead of answering.
    tool_calls: list[dict[str, Any]] = []
    usage: TokenUsage
    latency_ms: float
    started_at: datetime
    # Answered from the call journal by a retried attempt: not made, and not paid, again.
    replayed: bool = False
    # The step's execution that made the call (None in records from before it was kept).
    execution: int | None = None


class ToolCall(BaseModel):
    kind: Literal["tool"] = "tool"
    tool: str
    arguments: dict[str, Any] = {}
    output: str | None = None
    error: str | None = None
    latency_ms: float
    started_at: datetime
    replayed: bool = False


TranscriptEntry = Annotated[LLMCall | ToolCall, Field(discriminator="kind")]


class CallRef(BaseModel):
    """Where an attempt's call is recorded: its row in the call journal, the one record of
    each call (the journal, the transcript, usage and the timeline all read it)."""

    kind: Literal["llm", "tool"]
    call_index: int
    request_hash: str
    replayed: bool = False  # answered from the journal: an earlier attempt made it


# How a transcript is stored in the blob store, and read back by the API.
TRANSCRIPT_FORMAT: TypeAdapter[list[TranscriptEntry]] = TypeAdapter(list[TranscriptEntry])


class RunTaskStepResult(BaseModel):
    output: str  # the whole output, or a preview when output_ref is set
    output_ref: str | None = None
    usage: TokenUsage
    attempt: int
    # Transcripts always travel by reference: every prompt is in them.
    transcript_ref: str | None = None
