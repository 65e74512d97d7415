"""A run's timeline: its steps' attempts, calls, gate waits and retry backoffs on one time
axis, for the console's Gantt view (``GET /runs/{run_id}/timeline``).

Every bar has a start and an end; an end of null means "still going" and is drawn up to
the document's ``now``. Times are the worker's and the workflow's clocks as recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from workflows.run_state import StepType
from workflows.status import RunStatus, StepStatus
from workflows.task_step import TokenUsage


class TimelineLlmCall(BaseModel):
    kind: Literal["llm"] = "llm"
    call_index: int
    model: str
    started_at: datetime
    finished_at: datetime | None = Field(description="Null: no answer recorded yet")
    latency_ms: float
    usage: TokenUsage
    cost_usd: float


class TimelineToolCall(BaseModel):
    kind: Literal["tool"] = "tool"
    call_index: int
    tool: str
    started_at: datetime
    finished_at: datetime | None = Field(
        description="Null: started (a recorded intent) and never reported back"
    )
    latency_ms: float
    error: str | None = None


TimelineCall = Annotated[TimelineLlmCall | TimelineToolCall, Field(discriminator="kind")]


class TimelineAttempt(BaseModel):
    """One Temporal attempt of one execution of a task step."""

    execution: int = Field(description="1, then one more each time an operator retries")
    attempt: int = Field(description="Temporal's attempt within the execution, from 1")
    started_at: datetime
    finished_at: datetime | None = Field(description="Null while the attempt runs")
    outcome: Literal["succeeded", "failed", "running"]
    error: str | None = None
    calls: list[TimelineCall] = Field(
        description="The calls this attempt made, in order; each lies within the attempt"
    )
    replayed_calls: int = Field(
        default=0,
        description="Calls answered from the call journal (an earlier attempt made them): "
        "not drawn again",
    )


class TimelineGap(BaseModel):
    """Time between a step's attempts: Temporal's retry backoff after a failed attempt
    (``backoff``), or a paused step waiting for an operator's retry (``paused``)."""

    kind: Literal["backoff", "paused"]
    execution: int = Field(description="The execution whose failed attempt the gap follows")
    started_at: datetime
    ended_at: datetime | None = Field(
        description="When the next attempt started; for a backoff under way, when it is "
        "due; null: still waiting"
    )


class TimelineGateWait(BaseModel):
    """An approval gate waiting for a decision, one round."""

    round: int
    started_at: datetime
    ended_at: datetime | None = Field(description="The decision's time; null: still waiting")
    decision: Literal["approve", "reject"] | None = None
    actor: str = ""


class TimelineStep(BaseModel):
    step_id: str
    type: StepType
    status: StepStatus
    started_at: datetime | None
    finished_at: datetime | None
    attempts: list[TimelineAttempt] = []
    gaps: list[TimelineGap] = []
    gate_waits: list[TimelineGateWait] = []
    child_run_ids: list[str] = Field(
        default=[],
        description="Runs this step started (maps, loops, sub-workflows): not drawn here; "
        "each has its own timeline",
    )


class RunTimeline(BaseModel):
    run_id: str
    status: RunStatus
    started_at: datetime | None
    closed_at: datetime | None
    now: datetime = Field(description="When this was read: where bars still going end")
    steps: list[TimelineStep]
