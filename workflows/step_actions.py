"""Operator actions on a run's steps, and the rule for refusing them."""

from __future__ import annotations

from pydantic import BaseModel

from workflows.plan import BudgetLimits
from workflows.run_state import StepState
from workflows.status import StepStatus


class StepAction(BaseModel):
    """Retry or skip a paused step; ``output`` is what a skipped step hands on."""

    step_id: str
    actor: str = ""
    output: str | None = None
    output_ref: str | None = None  # set by the API when a large output went to the blob store
    # The execution the operator saw paused. A step still running it has its pause in
    # the workflow task that brings this request (engine/gates.py, result_in_flight).
    execution: int | None = None


class BudgetChange(BaseModel):
    """An operator's new limits for a run (``raise_budget``); each one given replaces the
    run's, one left out stays."""

    limits: BudgetLimits
    actor: str = ""


def refusal(state: StepState | None, step_id: str, expected: StepStatus) -> tuple[str, str] | None:
    """Why a message about ``step_id`` cannot apply now, as (error type, message), if it can't."""
    if state is None:
        return "UnknownStep", f"no step '{step_id}' in this run"
    if state.status != expected:
        return (
            "NotWaiting" if expected == StepStatus.WAITING else "NotPaused",
            f"step '{step_id}' is {state.status.value}, not {expected.value}",
        )
    return None
