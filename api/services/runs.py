"""Rules for runs: compile, start on Temporal, and read back. Temporal is the source of
truth for runs; the database only for the definitions they came from."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import Conflict, NotFound, Unavailable
from api.schemas.runs import (
    ApprovalPage,
    CancelAccepted,
    DecisionRequest,
    HistoryEvent,
    PendingApproval,
    RetryRequest,
    RunCreate,
    RunCreated,
    RunPage,
    RunRead,
    RunSummary,
    SkipRequest,
    StepRead,
    TemporalLink,
)
from api.services.run_history import (
    fetch_chain_events,
    fetch_events,
    readable_events,
    step_of_activity,
    steps_from_history,
)
from api.services.run_listing import Cursor, decode_page_token, newest_first
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.agent_workflow import AgentWorkflow
from workflows.compiler import compile_plan
from workflows.plan import RunMeta
from workflows.run_state import (
    AgentWorkflowInput,
    AgentWorkflowResult,
    Decision,
    RunState,
    StepState,
)
from workflows.search_attributes import (
    KASAL_STATUS,
    KASAL_VERSION,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
)
from workflows.status import RunStatus, StepStatus
from workflows.step_actions import StepAction
from workflows.task_step import INLINE_OUTPUT_LIMIT, TRANSCRIPT_FORMAT, preview

WORKFLOW_TYPE = "AgentWorkflow"
# An open run is asked for its state; a run whose worker is gone must not hang the API.
QUERY_TIMEOUT = timedelta(seconds=3)
UPDATE_ACCEPT_TIMEOUT = timedelta(seconds=5)
IDEMPOTENT_RUNS = uuid.UUID("5b0c1f64-8f59-4f0e-9d55-6f1f3c1d2a77")

_CLOSED_STATUS = {
    WorkflowExecutionStatus.FAILED: RunStatus.FAILED,
    WorkflowExecutionStatus.CANCELED: RunStatus.CANCELLED,
    WorkflowExecutionStatus.TERMINATED: RunStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT: RunStatus.TIMED_OUT,
}
# A status filter in visibility terms: Temporal's close status is the truth once closed.
_STATUS_QUERY = {
    RunStatus.RUNNING: "ExecutionStatus = 'Running' AND KasalStatus = 'running'",
    RunStatus.WAITING_FOR_APPROVAL: (
        "ExecutionStatus = 'Running' AND KasalStatus = 'waiting_for_approval'"
    ),
    RunStatus.NEEDS_ATTENTION: "ExecutionStatus = 'Running' AND KasalStatus = 'needs_attention'",
    RunStatus.COMPLETED: "ExecutionStatus = 'Completed' AND KasalStatus = 'completed'",
    RunStatus.REJECTED: "ExecutionStatus = 'Completed' AND KasalStatus = 'rejected'",
    RunStatus.FAILED: "ExecutionStatus = 'Failed'",
    RunStatus.CANCELLED: "ExecutionStatus = 'Canceled'",
    RunStatus.TERMINATED: "ExecutionStatus = 'Terminated'",
    RunStatus.TIMED_OUT: "ExecutionStatus = 'TimedOut'",
}

_WAITING_RUNS = [
    f"WorkflowType = '{WORKFLOW_TYPE}'",
    "ExecutionStatus = 'Running'",
    "(KasalStatus = 'waiting_for_approval' OR KasalStatus = 'needs_attention')",
]

RunHandle = WorkflowHandle[AgentWorkflow, AgentWorkflowResult]


class RunService:
    def __init__(
        self, uow: UnitOfWork, temporal: TemporalGateway, settings: Settings, blobs: BlobStore
    ) -> None:
        self.uow = uow
        self.temporal = temporal
        self.settings = settings
        self.blobs = blobs

    async def create(
        self, workflow_id: uuid.UUID, data: RunCreate, idempotency_key: str | None
    ) -> RunCreated:
        """Compile the chosen version with the inputs and start one Temporal workflow."""
        async with self.uow as uow:
            workflow = await uow.workflows.get(workflow_id)
            if workflow is None:
                raise NotFound(f"no workflow {workflow_id}")
            number = data.version or workflow.latest_version
            version = await uow.workflows.get_version(workflow_id, number)
            if version is None:
                raise NotFound(f"workflow {workflow_id} has no version {number}")
            models = await uow.model_configs.names()
            name = workflow.name
        plan = compile_plan(version.spec, data.inputs, models)
        plan = plan.model_copy(
            update={
                "meta": RunMeta(
                    workflow_id=str(workflow_id),
                    workflow_name=name,
                    version=number,
                    webhook_url=plan.meta.webhook_url or self.settings.KASAL_WEBHOOK_URL,
                    app_url=self.settings.app_url,
                    temporal_web_url=self.settings.temporal_ui_url,
                )
            }
        )
        client = await self.temporal.client()
        run_id = _run_id(workflow_id, idempotency_key)
        if idempotency_key is not None:
            with contextlib.suppress(NotFound):
                return await self._replay(client, workflow_id, run_id)
        try:
            handle = await client.start_workflow(
                AgentWorkflow.run,
                AgentWorkflowInput(plan=plan),
                id=run_id,
                task_queue=self.settings.KASAL_TASK_QUEUE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(KASAL_WORKFLOW_ID, str(workflow_id)),
                        SearchAttributePair(KASAL_WORKFLOW_NAME, name),
                        SearchAttributePair(KASAL_VERSION, number),
                        SearchAttributePair(KASAL_STATUS, RunStatus.RUNNING.value),
                    ]
                ),
                static_summary=f"{name} · v{number}",
                static_details=f"Kasal workflow {name} ({workflow_id}), version {number}",
                # With an Idempotency-Key the run id is derived from it: a request racing
                # another with the same key finds the run that one started, open or closed.
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return await self._replay(client, workflow_id, run_id)
        return RunCreated(
            run_id=run_id,
            workflow_id=workflow_id,
            version=number,
            status=RunStatus.RUNNING,
            temporal=self._link(run_id, handle.result_run_id),
        )

    async def _replay(self, client: Client, workflow_id: uuid.UUID, run_id: str) -> RunCreated:
        """The run an earlier request with the same Idempotency-Key started, as it is now:
        the status is the one the runs list shows, not the `running` it started with."""
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, run_id)
        description = await self._describe(handle)
        attributes = description.typed_search_attributes
        return RunCreated(
            run_id=run_id,
            workflow_id=workflow_id,
            version=attributes.get(KASAL_VERSION) or 0,
            status=_listed_status(description.status, attributes.get(KASAL_STATUS)),
            temporal=self._link(run_id, description.run_id),
        )

    async def get(self, run_id: str) -> RunRead:
        """The run with every step: asked of the workflow while open, read back once closed."""
        client = await self.temporal.client()
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, run_id)
        description = await self._describe(handle)
        result: AgentWorkflowResult | None = None
        if description.status == WorkflowExecutionStatus.RUNNING:
            state = await self._open_state(handle, description)
            status, steps = state.status, state.steps
        elif description.status == WorkflowExecutionStatus.COMPLETED:
            result = await handle.result()
            status, steps = RunStatus(result.outcome), result.steps
        else:
            status = _CLOSED_STATUS.get(description.status, RunStatus.FAILED)
            steps = await self._closed_steps(handle, client)
        attributes = description.typed_search_attributes
        steps_read, result = await self._resolve_blobs(steps, result)
        return RunRead(
            run_id=run_id,
            workflow_id=_uuid(attributes.get(KASAL_WORKFLOW_ID)),
            workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
            version=attributes.get(KASAL_VERSION) or 0,
            status=status,
            started_at=description.start_time,
            closed_at=description.close_time,
            steps=steps_read,
            result=result,
            temporal=self._link(run_id, description.run_id),
        )

    async def get_all(
        self,
        *,
        workflow_id: uuid.UUID | None,
        status: RunStatus | None,
        limit: int,
        page_token: str | None,
    ) -> RunPage:
        """Runs from Temporal's visibility store, newest first, a page after a cursor."""
        client = await self.temporal.client()
        clauses = [f"WorkflowType = '{WORKFLOW_TYPE}'", "ExecutionStatus != 'ContinuedAsNew'"]
        if workflow_id is not None:
            clauses.append(f"KasalWorkflowId = '{workflow_id}'")
        if status is not None:
            clauses.append(_STATUS_QUERY[status])
        page, more = await _newest_runs(client, clauses, limit, decode_page_token(page_token))
        return RunPage(
            items=[self._summary(e) for e in page],
            next_page_token=Cursor.after(page[-1]).encode() if more and page else None,
        )

    async def history(self, run_id: str) -> list[HistoryEvent]:
        """The run's Temporal events, readable, with the step each concerns."""
        client = await self.temporal.client()
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, run_id)
        description = await self._describe(handle)
        first_run_id = description.raw_description.workflow_execution_info.first_run_id
        return readable_events(
            await fetch_chain_events(client, run_id, first_run_id or description.run_id)
        )

    async def approvals(self, *, limit: int, page_token: str | None) -> ApprovalPage:
        """Gates waiting for a decision, a page of whole runs at a time.

        Runs come newest-started first, like the runs list, after the page token's
        cursor; within a page the oldest wait comes first. A page holds at most ``limit``
        gates, unless one run alone waits at more.
        """
        client = await self.temporal.client()
        after = decode_page_token(page_token)
        items: list[PendingApproval] = []
        while len(items) < limit:
            runs, more = await _newest_runs(client, _WAITING_RUNS, limit - len(items), after)
            gates_per_run = await asyncio.gather(
                *(self._waiting_gates(client, execution) for execution in runs)
            )
            for execution, gates in zip(runs, gates_per_run, strict=True):
                if items and len(items) + len(gates) > limit:
                    return _approval_page(items, after)
                items += gates
                after = Cursor.after(execution)
            if not more:
                return _approval_page(items, None)
        return _approval_page(items, after)

    async def _waiting_gates(
        self, client: Client, execution: WorkflowExecution
    ) -> list[PendingApproval]:
        handle: RunHandle = client.get_workflow_handle_for(AgentWorkflow.run, execution.id)
        try:
            state = await handle.query(AgentWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            return []  # no worker answers now; the run shows as waiting in the runs list
        attributes = execution.typed_search_attributes
        return [
            PendingApproval(
                run_id=execution.id,
                workflow_id=_uuid(attributes.get(KASAL_WORKFLOW_ID)),
                workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
                version=attributes.get(KASAL_VERSION) or 0,
                step_id=step.id,
                message=step.message or "",
                round=step.round,
                waiting_since=step.waiting_since,
                deadline=step.deadline,
            )
            for step in state.steps
            if step.status == StepStatus.WAITING
        ]

    async def worker_polling(self) -> bool:
        """Whether any worker polls the task queue now."""
        client = await self.temporal.client()
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=self.settings.KASAL_TASK_QUEUE),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len(response.pollers) > 0

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
        [step], _ = await self._resolve_blobs([state], None)
        return step

    # --- reading ---

    async def _resolve_blobs(
        self, steps: list[StepState], result: AgentWorkflowResult | None
    ) -> tuple[list[StepRead], AgentWorkflowResult | None]:
        """Outputs whole and transcripts inline: what travelled by reference, fetched."""
        refs = [r for s in steps for r in (s.output_ref, s.transcript_ref) if r]
        stored = await self.blobs.get_many(refs) if refs else {}
        read = []
        for state in steps:
            step = StepRead(**state.model_dump())
            if state.output_ref:
                step.output = stored.get(state.output_ref, state.output)
            if state.transcript_ref and state.transcript_ref in stored:
                step.transcript = TRANSCRIPT_FORMAT.validate_json(stored[state.transcript_ref])
            read.append(step)
        if result is not None and result.output_refs:
            outputs = {s.id: s.output for s in read if s.output is not None}
            result = result.model_copy(
                update={
                    "outputs": outputs,
                    "output_refs": {},
                    "final_output": "\n\n".join(outputs[i] for i in result.final_step_ids),
                    "steps": [],
                }
            )
        elif result is not None:
            result = result.model_copy(update={"steps": []})
        return read, result

    async def _describe(self, handle: RunHandle) -> WorkflowExecutionDescription:
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no run {handle.id}") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        if description.workflow_type != WORKFLOW_TYPE:
            raise NotFound(f"no run {handle.id}")
        return description

    async def _open_state(
        self, handle: RunHandle, description: WorkflowExecutionDescription
    ) -> RunState:
        try:
            state = await handle.query(AgentWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            # No worker answered: rebuild what the history shows.
            _, steps = await steps_from_history(
                await fetch_events(handle), (await self.temporal.client()).data_converter
            )
            status = description.typed_search_attributes.get(KASAL_STATUS) or "running"
            state = RunState(status=RunStatus(status), steps=steps)
        _merge_pending_activities(state.steps, description)
        return state

    async def _closed_steps(self, handle: RunHandle, client: Client) -> list[StepState]:
        try:
            await handle.result()
        except WorkflowFailureError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type == "RunFailed" and cause.details:
                return RunState.model_validate(cause.details[0]).steps
        except Exception:
            pass
        _, steps = await steps_from_history(await fetch_events(handle), client.data_converter)
        return steps

    def _summary(self, execution: WorkflowExecution) -> RunSummary:
        attributes = execution.typed_search_attributes
        return RunSummary(
            run_id=execution.id,
            workflow_id=_uuid(attributes.get(KASAL_WORKFLOW_ID)),
            workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
            version=attributes.get(KASAL_VERSION) or 0,
            status=_listed_status(execution.status, attributes.get(KASAL_STATUS)),
            started_at=execution.start_time,
            closed_at=execution.close_time,
            temporal=self._link(execution.id, execution.run_id),
        )

    def _link(self, run_id: str, execution_run_id: str | None) -> TemporalLink:
        namespace = self.settings.TEMPORAL_NAMESPACE
        url = f"{self.settings.temporal_ui_url}/namespaces/{namespace}/workflows/{run_id}"
        if execution_run_id:
            url += f"/{execution_run_id}/history"
        return TemporalLink(
            namespace=namespace, workflow_id=run_id, run_id=execution_run_id, web_url=url
        )


def _refusal(failure: WorkflowUpdateFailedError) -> Exception:
    cause = failure.cause
    message = str(cause) if cause is not None else str(failure)
    if isinstance(cause, ApplicationError) and cause.type == "UnknownStep":
        return NotFound(message)
    return Conflict(message)


async def _newest_runs(
    client: Client, clauses: list[str], count: int, after: Cursor | None
) -> tuple[list[WorkflowExecution], bool]:
    if after is not None:
        clauses = [*clauses, after.visibility_clause()]
    executions = aiter(client.list_workflows(" AND ".join(clauses)))
    return await newest_first(executions, count, after)


def _approval_page(items: list[PendingApproval], last_run: Cursor | None) -> ApprovalPage:
    items.sort(key=lambda item: item.waiting_since or datetime.max.replace(tzinfo=UTC))
    return ApprovalPage(
        items=items, next_page_token=last_run.encode() if last_run is not None else None
    )


def _run_id(workflow_id: uuid.UUID, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return f"run-{uuid.uuid4()}"
    return f"run-{uuid.uuid5(IDEMPOTENT_RUNS, f'{workflow_id}/{idempotency_key}')}"


def _merge_pending_activities(
    steps: list[StepState], description: WorkflowExecutionDescription
) -> None:
    """Attempts and failures of activities in flight, which the workflow cannot see."""
    by_id = {s.id: s for s in steps}
    for pending in description.raw_description.pending_activities:
        state = by_id.get(step_of_activity(pending.activity_id))
        if state is None or state.status != StepStatus.RUNNING:
            continue
        state.attempt = max(state.attempt, pending.attempt)
        if pending.HasField("last_failure") and pending.last_failure.message:
            state.error = pending.last_failure.message


def _listed_status(execution_status: WorkflowExecutionStatus | None, kasal: Any) -> RunStatus:
    if execution_status == WorkflowExecutionStatus.RUNNING:
        return RunStatus(kasal) if kasal else RunStatus.RUNNING
    if execution_status == WorkflowExecutionStatus.COMPLETED:
        return RunStatus.REJECTED if kasal == RunStatus.REJECTED else RunStatus.COMPLETED
    return _CLOSED_STATUS.get(execution_status or WorkflowExecutionStatus.FAILED, RunStatus.FAILED)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
