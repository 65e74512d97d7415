"""What a run knows about itself: its input, per-step state, messages and result.

The workflow keeps these, the ``status`` query returns them, and the API reads
them back from the query, the result or a failure's details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from workflows.plan import Plan
from workflows.status import RunStatus, StepStatus
from workflows.task_step import TokenUsage

TASK_QUEUE = "kasal"


class Decision(BaseModel):
    """A person's (or a timeout's) decision on an approval gate."""

    step_id: str
    decision: Literal["approve", "reject"]
    comment: str = ""
    actor: str = ""
    round: int | None = None


class RecordedDecision(Decision):
    decided_at: datetime


class StepState(BaseModel):
    id: str
    type: Literal["task", "approval"]
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    output: str | None = None  # the whole output, or a preview when output_ref is set
    output_ref: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    usage: TokenUsage | None = None
    transcript_ref: str | None = None
    # Approval gates only.
    message: str | None = None
    round: int = 0
    waiting_since: datetime | None = None
    deadline: datetime | None = None
    decisions: list[RecordedDecision] = []
    # Messages that were refused or ignored, so an operator can see why.
    log: list[str] = []


class CarriedState(BaseModel):
    """What a run hands to its next execution when it continues as new."""

    steps: list[StepState] = []
    feedback: dict[str, str] = {}
    executions: dict[str, int] = {}
    pending_decisions: list[RecordedDecision] = []


class AgentWorkflowInput(BaseModel):
    plan: Plan
    carried: CarriedState | None = None


class RunState(BaseModel):
    status: RunStatus
    steps: list[StepState]


class AgentWorkflowResult(BaseModel):
    outcome: Literal["completed", "rejected"]
    outputs: dict[str, str]  # previews where output_refs has the whole
    output_refs: dict[str, str] = {}
    final_step_ids: list[str] = []
    final_output: str
    steps: list[StepState]
