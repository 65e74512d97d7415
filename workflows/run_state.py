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
    # The actor's role in the run's workspace, as the API authenticated them; None for a
    # signal (trusted: Temporal access is admin access) and for decisions from before.
    actor_role: str | None = None


class RecordedDecision(Decision):
    decided_at: datetime


PauseReason = Literal["failure", "budget"]
StepType = Literal["task", "approval", "condition", "router", "map", "loop", "workflow"]


class StepState(BaseModel):
    id: str
    type: StepType
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    # Activity executions: 1 for the first, one more for each operator retry or rerun.
    execution: int = 0
    pause_reason: PauseReason | None = None
    output: str | None = None  # the whole output, or a preview when output_ref is set
    output_ref: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # What the step's LLM calls used and cost, its child runs' included.
    usage: TokenUsage | None = None
    transcript_ref: str | None = None
    # Approval gates only.
    message: str | None = None
    approvers: list[str] = []
    round: int = 0
    waiting_since: datetime | None = None
    deadline: datetime | None = None
    # When a waiting gate reminds its approvers, and escalates to its escalate_to.
    remind_at: datetime | None = None
    escalate_at: datetime | None = None
    decisions: list[RecordedDecision] = []
    # Conditions and routers: the branch chosen ("then", "else", or a route's name).
    branch: str | None = None
    # Maps, loops and sub-workflows: the child runs started, oldest first, and the
    # newest one's open status while it needs someone (its gates and pauses).
    child_run_ids: list[str] = []
    child_status: RunStatus | None = None
    # Maps: how many items there are, and how many have finished.
    items_total: int | None = None
    items_done: int = 0
    # Loops: the iterations begun.
    iteration: int = 0
    # Messages that were refused or ignored, so an operator can see why.
    log: list[str] = []


def attention_status(state: StepState) -> StepStatus:
    """A step's status as its run's status counts it: a step whose child run waits for
    someone counts as waiting (a gate) or paused, so the parent says so too."""
    if state.status == StepStatus.RUNNING and state.child_status is not None:
        if state.child_status == RunStatus.NEEDS_ATTENTION:
            return StepStatus.PAUSED
        if state.child_status == RunStatus.WAITING_FOR_APPROVAL:
            return StepStatus.WAITING
    return state.status


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
    # Set when the steps are one page of many: pass it back to get the next page.
    next_page_token: str | None = None


class StatusPage(BaseModel):
    """Which steps a ``status`` query returns: a run may hold many thousands."""

    page_token: str | None = None
    limit: int = 1000


class AgentWorkflowResult(BaseModel):
    outcome: Literal["completed", "rejected"]
    # AgentWorkflow (v1) only; v2 keeps each output once, on its step (``outputs_by_step``).
    outputs: dict[str, str] = {}  # previews where output_refs has the whole
    output_refs: dict[str, str] = {}
    final_step_ids: list[str] = []
    final_output: str
    steps: list[StepState]

    def outputs_by_step(self) -> dict[str, str]:
        """Each finished step's output (a preview where ``output_ref`` has the whole)."""
        if self.outputs:
            return self.outputs
        return {s.id: s.output for s in self.steps if s.output is not None}

    def usage(self) -> TokenUsage:
        """What the run's LLM calls used and cost, its child runs' included."""
        return TokenUsage.sum_of(s.usage for s in self.steps)

    def output_refs_by_step(self) -> dict[str, str]:
        """The blobs that hold the large outputs of ``outputs_by_step`` whole."""
        if self.output_refs:
            return self.output_refs
        return {s.id: s.output_ref for s in self.steps if s.output_ref is not None}
