"""Operating runs: deciding a gate, retrying or skipping a paused step, cancelling.
Each goes to the workflow as an update, so a refusal comes back as the answer.

With an Idempotency-Key the update id is derived from the route, the step and the key:
Temporal answers a repeated id with the first outcome within an execution, and the run
remembers the ids it applied across continue-as-new (AgentWorkflowV2)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.authorization import Principal
from api.errors import Conflict, Forbidden, NotFound, Unavailable
from api.metrics import ApiMetrics
from api.schemas.runs import (
    BudgetRaise,
    BudgetRead,
    CancelAccepted,
    DecisionRequest,
    SkipRequest,
    StepRead,
)
from api.services.run_access import RunAccess
from api.services.run_reading import resolve_blobs
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from kasal.settings import Settings
from workflows.operator_requests import IDEMPOTENT_UPDATE_PREFIX
from workflows.plan import BudgetLimits
from workflows.plan_building import budget_limits
from workflows.run_state import Decision, StepState
from workflows.step_actions import BudgetChange, StepAction
from workflows.task_step import INLINE_OUTPUT_LIMIT, MICROS_PER_USD, preview

UPDATE_ACCEPT_TIMEOUT = timedelta(seconds=5)


class RunOperator(RunAccess):
    def __init__(
        self,
        temporal: TemporalGateway,
        settings: Settings,
        blobs: BlobStore,
        workspace: str,
        metrics: ApiMetrics,
    ) -> None:
        super().__init__(temporal, settings, workspace)
        self.blobs = blobs
        self.metrics = metrics

    async def decide(
        self,
        run_id: str,
        step_id: str,
        body: DecisionRequest,
        actor: Principal,
        idempotency_key: str | None,
    ) -> StepRead:
        """Approve or reject a waiting gate through the workflow's `decide` update. The
        workflow checks the actor against the gate's approvers (it holds the plan)."""
        decision = Decision(
            step_id=step_id,
            decision=body.decision,
            comment=body.comment,
            round=body.round,
            actor=actor.email,
            actor_role=actor.role.value,
        )
        step = await self._update(run_id, "decide", decision, idempotency_key)
        self.metrics.observe_gate_wait(step)
        return step

    async def retry_step(
        self,
        run_id: str,
        step_id: str,
        actor: Principal,
        idempotency_key: str | None,
        execution: int | None = None,
    ) -> StepRead:
        """Run a paused step again; its model config is resolved afresh."""
        action = StepAction(step_id=step_id, actor=actor.email, execution=execution)
        return await self._update(run_id, "retry_step", action, idempotency_key)

    async def skip_step(
        self,
        run_id: str,
        step_id: str,
        body: SkipRequest,
        actor: Principal,
        idempotency_key: str | None,
    ) -> StepRead:
        """Pass over a paused step, handing on the given output."""
        action = StepAction(
            step_id=step_id, actor=actor.email, output=body.output, execution=body.execution
        )
        if len(body.output.encode()) > INLINE_OUTPUT_LIMIT:
            ref = await self.blobs.put(
                kind="output", run_id=run_id, step_id=step_id, content=body.output
            )
            action = action.model_copy(update={"output": preview(body.output), "output_ref": ref})
        return await self._update(run_id, "skip_step", action, idempotency_key)

    async def raise_budget(self, run_id: str, body: BudgetRaise, actor: Principal) -> BudgetRead:
        """New limits for an open run; a step paused over budget is then retried or skipped."""
        handle = await self._handle(run_id)
        if (await self._describe(handle)).status != WorkflowExecutionStatus.RUNNING:
            raise Conflict(f"run {run_id} is closed")
        limits = budget_limits(body.as_spec())
        assert limits is not None  # BudgetRaise holds one limit at least
        try:
            budget = await handle.execute_update(
                "raise_budget",
                BudgetChange(limits=limits, actor=actor.email),
                result_type=BudgetLimits,
                rpc_timeout=UPDATE_ACCEPT_TIMEOUT,
            )
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise Unavailable(
                f"no worker accepted the request within {UPDATE_ACCEPT_TIMEOUT.seconds} s"
            ) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise Conflict(f"run {run_id} closed before it took the request") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        cost = budget.max_cost_micros if budget else None
        return BudgetRead(
            max_cost_usd=None if cost is None else cost / MICROS_PER_USD,
            max_tokens=budget.max_tokens if budget else None,
        )

    async def cancel(self, run_id: str, idempotency_key: str | None) -> CancelAccepted:
        """Ask the run to stop; steps in flight hear it through their heartbeats."""
        handle = await self._handle(run_id)
        description = await self._describe(handle)
        if description.status != WorkflowExecutionStatus.RUNNING:
            if (
                idempotency_key is not None
                and description.status == WorkflowExecutionStatus.CANCELED
            ):
                return CancelAccepted(run_id=run_id)  # the first call's outcome, again
            raise Conflict(f"run {run_id} is closed")
        await handle.cancel()
        return CancelAccepted(run_id=run_id)

    async def _update(
        self, run_id: str, update: str, argument: Decision | StepAction, key: str | None
    ) -> StepRead:
        handle = await self._handle(run_id)
        description = await self._describe(handle)
        if description.status != WorkflowExecutionStatus.RUNNING:
            raise Conflict(f"run {run_id} is closed")
        try:
            # Waiting only for ACCEPTED, with a timeout: with no worker the update would
            # otherwise wait for one indefinitely.
            pending = await handle.start_update(
                update,
                argument,
                id=_update_id(update, argument.step_id, key),
                result_type=StepState,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                rpc_timeout=UPDATE_ACCEPT_TIMEOUT,
            )
            state = await pending.result()
        except WorkflowUpdateFailedError as failure:
            raise _refusal(failure) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise Unavailable(
                f"no worker accepted the request within {UPDATE_ACCEPT_TIMEOUT.seconds} s"
            ) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise Conflict(f"run {run_id} closed before it took the request") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        [step], _ = await resolve_blobs(self.blobs, run_id, [state], None)
        return step


def _update_id(update: str, step_id: str, key: str | None) -> str | None:
    """Derived from the key, so a retried call is the same update; else Temporal's own."""
    if key is None:
        return None
    return f"{IDEMPOTENT_UPDATE_PREFIX}{update}:{step_id}:{key}"


def _refusal(failure: WorkflowUpdateFailedError) -> Exception:
    cause = failure.cause
    message = str(cause) if cause is not None else str(failure)
    if isinstance(cause, ApplicationError) and cause.type == "UnknownStep":
        return NotFound(message)
    if isinstance(cause, ApplicationError) and cause.type == "NotAnApprover":
        return Forbidden(message)
    return Conflict(message)
