"""Operating runs: deciding a gate, retrying or skipping a paused step, cancelling.
Each goes to the workflow as an update, so a refusal comes back as the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Conflict, NotFound, Unavailable
from api.schemas.runs import CancelAccepted, DecisionRequest, RetryRequest, SkipRequest, StepRead
from api.services.run_access import RunAccess, RunHandle
from api.services.run_reading import resolve_blobs
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from kasal.settings import Settings
from workflows.agent_workflow import AgentWorkflow
from workflows.run_state import Decision, StepState
from workflows.step_actions import StepAction
from workflows.task_step import INLINE_OUTPUT_LIMIT, preview

UPDATE_ACCEPT_TIMEOUT = timedelta(seconds=5)


class RunOperator(RunAccess):
    def __init__(self, temporal: TemporalGateway, settings: Settings, blobs: BlobStore) -> None:
        super().__init__(temporal, settings)
        self.blobs = blobs

    async def decide(self, run_id: str, step_id: str, body: DecisionRequest) -> StepRead:
        """Approve or reject a waiting gate through the workflow's `decide` update."""
        decision = Decision(step_id=step_id, **body.model_dump())
        return await self._update(run_id, AgentWorkflow.decide, decision)

    async def retry_step(self, run_id: str, step_id: str, body: RetryRequest) -> StepRead:
        """Run a paused step again; its model config is resolved afresh."""
        action = StepAction(step_id=step_id, actor=body.actor)
        return await self._update(run_id, AgentWorkflow.retry_step, action)

    async def skip_step(self, run_id: str, step_id: str, body: SkipRequest) -> StepRead:
        """Pass over a paused step, handing on the given output."""
        action = StepAction(step_id=step_id, actor=body.actor, output=body.output)
        if len(body.output.encode()) > INLINE_OUTPUT_LIMIT:
            ref = await self.blobs.put(
                kind="output", run_id=run_id, step_id=step_id, content=body.output
            )
            action = action.model_copy(update={"output": preview(body.output), "output_ref": ref})
        return await self._update(run_id, AgentWorkflow.skip_step, action)

    async def cancel(self, run_id: str) -> CancelAccepted:
        """Ask the run to stop; steps in flight hear it through their heartbeats."""
        client = await self.temporal.client()
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, run_id)
        description = await self._describe(handle)
        if description.status != WorkflowExecutionStatus.RUNNING:
            raise Conflict(f"run {run_id} is closed")
        await handle.cancel()
        return CancelAccepted(run_id=run_id)

    async def _update(self, run_id: str, update: Any, argument: Any) -> StepRead:
        client = await self.temporal.client()
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, run_id)
        description = await self._describe(handle)
        if description.status != WorkflowExecutionStatus.RUNNING:
            raise Conflict(f"run {run_id} is closed")
        try:
            # Waiting only for ACCEPTED, with a timeout: with no worker the update would
            # otherwise wait for one indefinitely.
            pending = await handle.start_update(
                update,
                argument,
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                rpc_timeout=UPDATE_ACCEPT_TIMEOUT,
            )
            state: StepState = await pending.result()
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
        [step], _ = await resolve_blobs(self.blobs, [state], None)
        return step


def _refusal(failure: WorkflowUpdateFailedError) -> Exception:
    cause = failure.cause
    message = str(cause) if cause is not None else str(failure)
    if isinstance(cause, ApplicationError) and cause.type == "UnknownStep":
        return NotFound(message)
    return Conflict(message)
