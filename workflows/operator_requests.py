"""An operator's message as the reducer's event: a decision, a retry or a skip, stamped
with when it came and, for an update, the idempotency key the API derived its id from."""

from __future__ import annotations

from typing import Literal

from temporalio import workflow

from workflows.engine.events import Decided, RetryRequested, SkipRequested
from workflows.run_state import Decision, RecordedDecision
from workflows.step_actions import StepAction

# Update ids the API derives from an Idempotency-Key start with this; the run remembers
# them across continue-as-new, where Temporal's own de-duplication ends.
IDEMPOTENT_UPDATE_PREFIX = "idem:"


def decided(decision: Decision, via: Literal["signal", "update"]) -> Decided:
    recorded = RecordedDecision(**decision.model_dump(), decided_at=workflow.now())
    return Decided(
        at=workflow.now(),
        decision=recorded,
        via=via,
        request_key=request_key() if via == "update" else None,
    )


def retry_requested(action: StepAction) -> RetryRequested:
    return RetryRequested(
        at=workflow.now(),
        step_id=action.step_id,
        actor=action.actor,
        request_key=request_key(),
        seen_execution=action.execution,
    )


def skip_requested(action: StepAction) -> SkipRequested:
    return SkipRequested(
        at=workflow.now(),
        step_id=action.step_id,
        actor=action.actor,
        output=action.output or "",
        output_ref=action.output_ref,
        request_key=request_key(),
        seen_execution=action.execution,
    )


def request_key() -> str | None:
    """The idempotency key of the update being handled, if the API derived its id from one."""
    update = workflow.current_update_info()
    if update is None or not update.id.startswith(IDEMPOTENT_UPDATE_PREFIX):
        return None
    return update.id
