"""Reading runs: asked of the workflow while open, read back once closed, and the
history of events behind them. Temporal is the source of truth for runs."""

from __future__ import annotations

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.schemas.runs import ForkedFrom, HistoryEvent, RunRead, StepRead
from api.services.call_records import attempt_transcripts
from api.services.failure_messages import decode_pending_failures
from api.services.run_access import (
    CLOSED_STATUS,
    LEGACY_WORKFLOW_TYPE,
    RunAccess,
    RunHandle,
    optional_uuid,
    query_state,
)
from api.services.run_fold import fold_history
from api.services.run_history import (
    fetch_chain_events,
    fetch_events,
    readable_events,
    step_of_activity,
    steps_from_history,
)
from api.services.run_pages import run_started_at
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.call_journal import CallJournal
from kasal.settings import Settings
from kasal.tracing import TRACE_ID_MEMO, trace_url
from workflows.run_state import AgentWorkflowResult, RunState, StepState
from workflows.search_attributes import (
    KASAL_FORKED_FROM,
    KASAL_FORKED_FROM_STEP,
    KASAL_STATUS,
    KASAL_VERSION,
    KASAL_WORKFLOW_ID,
    KASAL_WORKFLOW_NAME,
)
from workflows.status import RunStatus, StepStatus
from workflows.task_step import TRANSCRIPT_FORMAT, TokenUsage, TranscriptEntry

MAX_FORKS_LISTED = 100


class RunReader(RunAccess):
    def __init__(
        self, temporal: TemporalGateway, settings: Settings, blobs: BlobStore, workspace: str
    ) -> None:
        super().__init__(temporal, settings, workspace)
        self.blobs = blobs

    async def get(self, run_id: str, *, with_forks: bool = True) -> RunRead:
        """The run with every step: asked of the workflow while open, read back once closed.

        Listing its forks is a visibility query; the event stream, which reads the run on
        every change and sends only steps and status, leaves it out (``with_forks``)."""
        client = await self.temporal.client()
        handle = await self._handle(run_id)
        description = await self._describe(handle)
        result: AgentWorkflowResult | None = None
        if description.status == WorkflowExecutionStatus.RUNNING:
            state = await self._open_state(handle, description)
            status, steps = state.status, state.steps
        elif description.status == WorkflowExecutionStatus.COMPLETED:
            result = await handle.result()
            status, steps = RunStatus(result.outcome), result.steps
        else:
            status = CLOSED_STATUS.get(description.status, RunStatus.FAILED)
            steps = await self._closed_steps(handle, description, client)
        attributes = description.typed_search_attributes
        steps_read, result = await resolve_blobs(self.blobs, run_id, steps, result)
        usage = TokenUsage.sum_of(step.usage for step in steps_read)
        return RunRead(
            run_id=run_id,
            workflow_id=optional_uuid(attributes.get(KASAL_WORKFLOW_ID)),
            workflow_name=attributes.get(KASAL_WORKFLOW_NAME) or "",
            version=attributes.get(KASAL_VERSION) or 0,
            status=status,
            started_at=run_started_at(description),
            closed_at=description.close_time,
            steps=steps_read,
            usage=usage,
            cost_micros=usage.cost_micros,
            result=result,
            temporal=self._link(run_id, description.run_id),
            forked_from=_forked_from(attributes),
            forks=await self._forks(client, run_id) if with_forks else [],
            trace_url=await self._trace_url(description),
        )

    async def _trace_url(self, description: WorkflowExecutionDescription) -> str | None:
        template = self.settings.KASAL_TRACE_URL_TEMPLATE
        if not template:
            return None
        trace_id = await description.memo_value(TRACE_ID_MEMO, None, type_hint=str)
        return trace_url(template, trace_id)

    async def _forks(self, client: Client, run_id: str) -> list[str]:
        """The runs forked from this one, newest first (the first hundred)."""
        query = f"{self.runs_query} AND KasalForkedFrom = '{run_id}'"
        return [e.id async for e in client.list_workflows(query, limit=MAX_FORKS_LISTED)]

    async def history(self, run_id: str) -> list[HistoryEvent]:
        """The run's Temporal events, readable, with the step each concerns."""
        client = await self.temporal.client()
        handle = await self._handle(run_id)
        description = await self._describe(handle)
        first_run_id = description.raw_description.workflow_execution_info.first_run_id
        return readable_events(
            await fetch_chain_events(client, run_id, first_run_id or description.run_id)
        )

    async def _open_state(
        self, handle: RunHandle, description: WorkflowExecutionDescription
    ) -> RunState:
        try:
            state = await query_state(handle, description.workflow_type)
        except RPCError:
            # No worker answered: rebuild what the history shows.
            client = await self.temporal.client()
            steps = await _steps_from_history(handle, description, client)
            status = description.typed_search_attributes.get(KASAL_STATUS) or "running"
            state = RunState(status=RunStatus(status), steps=steps)
        await decode_pending_failures(description, (await self.temporal.client()).data_converter)
        _merge_pending_activities(state.steps, description)
        return state

    async def _closed_steps(
        self, handle: RunHandle, description: WorkflowExecutionDescription, client: Client
    ) -> list[StepState]:
        try:
            await handle.result()
        except WorkflowFailureError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type == "RunFailed" and cause.details:
                return RunState.model_validate(cause.details[0]).steps
        except Exception:
            pass
        return await _steps_from_history(handle, description, client)


async def _steps_from_history(
    handle: RunHandle, description: WorkflowExecutionDescription, client: Client
) -> list[StepState]:
    """v2 folds its own reducer over the history; AgentWorkflow's runs are read as before."""
    events = await fetch_events(handle, client.data_converter)
    if description.workflow_type == LEGACY_WORKFLOW_TYPE:
        _, steps = await steps_from_history(events, client.data_converter)
        return steps
    run = await fold_history(events, client.data_converter)
    return list(run.steps.values()) if run is not None else []


def _forked_from(attributes: TypedSearchAttributes) -> ForkedFrom | None:
    parent, step = attributes.get(KASAL_FORKED_FROM), attributes.get(KASAL_FORKED_FROM_STEP)
    return ForkedFrom(run_id=parent, step_id=step) if parent and step else None


async def _transcripts(
    journal: CallJournal, run_id: str, stored: dict[str, str]
) -> dict[str, list[TranscriptEntry]]:
    """Each step's transcript (``stored``: its record, by step id): its last attempt's
    calls, or, as stored before the call journal, the list of entries itself."""
    inline = {s: text for s, text in stored.items() if text.lstrip().startswith("[")}
    attempts = await attempt_transcripts(
        journal, run_id, {s: text for s, text in stored.items() if s not in inline}
    )
    return {s: TRANSCRIPT_FORMAT.validate_json(text) for s, text in inline.items()} | {
        s: attempt.entries for s, attempt in attempts.items()
    }


async def resolve_blobs(
    blobs: BlobStore,
    run_id: str,
    steps: list[StepState],
    result: AgentWorkflowResult | None,
) -> tuple[list[StepRead], AgentWorkflowResult | None]:
    """Outputs whole and transcripts inline: what travelled by reference, fetched."""
    refs = [r for s in steps for r in (s.output_ref, s.transcript_ref) if r]
    stored = await blobs.get_many(refs) if refs else {}
    transcripts = await _transcripts(
        CallJournal(blobs),  # the journal lives beside the blobs
        run_id,
        {
            s.id: stored[s.transcript_ref]
            for s in steps
            if s.transcript_ref and s.transcript_ref in stored
        },
    )
    read = []
    for state in steps:
        step = StepRead(**state.model_dump())
        if state.output_ref:
            step.output = stored.get(state.output_ref, state.output)
        if state.id in transcripts:
            step.transcript = transcripts[state.id]
        read.append(step)
    if result is not None:
        # Whole outputs, once each: v2's result keeps them on its steps only.
        outputs = {s.id: s.output for s in read if s.output is not None}
        result = result.model_copy(
            update={
                "outputs": outputs,
                "output_refs": {},
                "final_output": "\n\n".join(outputs[i] for i in result.final_step_ids),
                "steps": [],
            }
        )
    return read, result


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
