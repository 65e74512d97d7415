"""A run's whole state as one object: what the reducer reads and returns.

``RunData`` is everything a run knows. The workflow holds one, the ``status`` query
shows it, continue-as-new carries it whole, and the API rebuilds it from a history
by folding the same reducer over the history's events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from workflows.plan import BudgetLimits, Plan
from workflows.run_state import StepState
from workflows.status import RunStatus, StepStatus
from workflows.task_step import Allowance, TokenUsage

# Idempotency keys a run remembers across continue-as-new: an HTTP client retries a
# request within minutes, long before two hundred other requests arrive.
APPLIED_KEYS_KEPT = 200

ClosingStatus = Literal["failed", "rejected", "cancelled"]


class ClosingReason(BaseModel):
    """Why a run stopped starting steps: the first cause is kept, later ones are not."""

    status: ClosingStatus
    step_id: str | None = None
    message: str


class AppliedRequest(BaseModel):
    """An operator request the run has applied, so that a retried call gets its first answer."""

    key: str
    step: StepState


class MapEntry(BaseModel):
    """One map item's result: its text when small, else the blob that holds it."""

    output: str = ""
    output_ref: str | None = None


class RunData(BaseModel):
    """A run's state: steps keyed by instance, the queue of ready tasks, and how it ends."""

    steps: dict[str, StepState]
    # Task instances whose dependencies are met, waiting for one of max_parallel slots.
    ready: list[str] = []
    # A reviewer's comment for the tasks a gate sent back.
    feedback: dict[str, str] = {}
    closing: ClosingReason | None = None
    # Continue-as-new was suggested: no new activity starts until the run has moved on.
    draining: bool = False
    applied: list[AppliedRequest] = []
    published_status: RunStatus | None = None
    # The KasalCostMicros search attribute as last upserted (UpsertCost).
    published_cost_micros: int = 0
    # The budget (the plan's, as operators raised it) and what each running step may
    # spend from it (engine/budget.py).
    budget: BudgetLimits | None = None
    allowances: dict[str, Allowance] = {}
    # Steps that stopped over budget: the execution whose call journal their retry
    # continues, so that the calls they paid for are replayed, not made again.
    continued_journals: dict[str, int] = {}
    # The KasalApprovers search attribute as last upserted (UpsertApprovers).
    published_approvers: list[str] = []
    notifications: int = 0
    # Maps: each one's items, and the results of the items finished, in item order:
    # while they are small, as text; once they are not, as stored batches (blob ids),
    # plus the results not stored yet (engine/child_steps.py, "A map's results").
    map_items: dict[str, list[Any]] = {}
    map_outputs: dict[str, list[str]] = {}
    map_batches: dict[str, list[str]] = {}
    map_unstored: dict[str, list[MapEntry]] = {}
    # Loops: the last iteration's outputs, by the template's step ids.
    loop_outputs: dict[str, dict[str, str]] = {}

    @classmethod
    def for_plan(cls, plan: Plan) -> RunData:
        return cls(
            steps={s.id: StepState(id=s.id, type=s.type) for s in plan.steps},
            budget=plan.budget,
        )

    def running(self) -> int:
        return sum(1 for s in self.steps.values() if s.status == StepStatus.RUNNING)

    def is_finished(self) -> bool:
        """Nothing runs and nothing can: the run may close."""
        if self.closing is not None:
            return self.running() == 0
        return not self.ready and all(s.status not in OPEN for s in self.steps.values())

    def outcome(self) -> RunStatus:
        if self.closing is not None:
            return RunStatus(self.closing.status)
        return RunStatus.COMPLETED

    def applied_request(self, key: str | None) -> AppliedRequest | None:
        if key is None:
            return None
        return next((a for a in self.applied if a.key == key), None)

    def usage(self) -> TokenUsage:
        """What the run's LLM calls used and cost: its steps', child runs' included."""
        return TokenUsage.sum_of(s.usage for s in self.steps.values())

    def started_at(self) -> datetime | None:
        starts = [s.started_at for s in self.steps.values() if s.started_at is not None]
        return min(starts) if starts else None


OPEN = frozenset({StepStatus.RUNNING, StepStatus.WAITING, StepStatus.PAUSED})


class AgentWorkflowV2Input(BaseModel):
    plan: Plan
    # The state a run carries over continue-as-new; None for a new run.
    state: RunData | None = None
