"""One status table for the workflow, the API, the UI and Temporal search attributes."""

from __future__ import annotations

from enum import StrEnum


class StepStatus(StrEnum):
    PENDING = "pending"  # waiting for its dependencies
    RUNNING = "running"  # an attempt is in flight
    WAITING = "waiting"  # an approval gate waiting for a decision
    PAUSED = "paused"  # a task that failed and waits for an operator
    COMPLETED = "completed"  # finished with an output
    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"  # passed over by an operator
    NOT_TAKEN = "not_taken"  # on a branch a condition or router did not choose
    FAILED = "failed"  # failed for good
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    RUNNING = "running"
    WAITING_FOR_APPROVAL = "waiting_for_approval"
    NEEDS_ATTENTION = "needs_attention"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


# A step in one of these lets the steps after it start.
SATISFIED = frozenset({StepStatus.COMPLETED, StepStatus.APPROVED, StepStatus.SKIPPED})


def open_run_status(step_statuses: list[StepStatus]) -> RunStatus:
    """An open run: needs_attention outranks waiting_for_approval, which outranks running."""
    if StepStatus.PAUSED in step_statuses:
        return RunStatus.NEEDS_ATTENTION
    if StepStatus.WAITING in step_statuses:
        return RunStatus.WAITING_FOR_APPROVAL
    return RunStatus.RUNNING
