"""A run's timeline, read from what the run already records: the steps as the run reads
them, each task step's attempt records (the worker keeps one per attempt, since Temporal's
history keeps only an activity's last), the call journal they point into, and the attempt
Temporal has in flight. Child runs' steps are not drawn; each child has its own timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import TypeAdapter
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import WorkflowExecutionDescription

from api.schemas.runs import StepRead
from api.schemas.timeline import RunTimeline, TimelineStep
from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND, AttemptTranscript
from api.services.call_records import attempt_transcript
from api.services.run_access import RunAccess
from api.services.run_history import step_of_activity
from api.services.run_reading import RunReader
from api.services.timeline_bars import PendingAttempt, attempt_bars, gaps, gate_waits
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.call_journal import CallJournal
from kasal.settings import Settings
from workflows.status import StepStatus
from workflows.task_activity import ACTIVITY_ID_SEPARATOR
from workflows.task_step import TranscriptEntry

_ENTRY: TypeAdapter[TranscriptEntry] = TypeAdapter(TranscriptEntry)
_RUNNING = (
    PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED,
)


class TimelineService(RunAccess):
    def __init__(
        self,
        temporal: TemporalGateway,
        settings: Settings,
        blobs: BlobStore,
        calls: CallJournal,
        workspace: str,
    ) -> None:
        super().__init__(temporal, settings, workspace)
        self.reader = RunReader(temporal, settings, blobs, workspace)
        self.blobs = blobs
        self.calls = calls

    async def get(self, run_id: str) -> RunTimeline:
        """The run's steps in the run's order, each with its bars; 404 for an unknown run."""
        run = await self.reader.get(run_id, with_forks=False)
        pending = _pending_attempts(await self._describe(await self._handle(run_id)))
        steps = [await self._step(run_id, step, pending.get(step.id)) for step in run.steps]
        return RunTimeline(
            run_id=run_id,
            status=run.status,
            started_at=run.started_at,
            closed_at=run.closed_at,
            now=datetime.now(UTC),
            steps=steps,
        )

    async def _step(
        self, run_id: str, step: StepRead, pending: PendingAttempt | None
    ) -> TimelineStep:
        attempts = []
        if step.type == "task":
            if pending is not None and step.status == StepStatus.RUNNING:
                pending = await self._with_calls(run_id, step.id, pending)
            else:
                pending = None  # an activity the workflow no longer waits for
            attempts = attempt_bars(await self._records(run_id, step.id), pending)
        return TimelineStep(
            step_id=step.id,
            type=step.type,
            status=step.status,
            started_at=step.started_at,
            finished_at=step.finished_at,
            attempts=attempts,
            gaps=gaps(attempts, step.status, pending),
            gate_waits=gate_waits(step) if step.type == "approval" else [],
            child_run_ids=step.child_run_ids,
        )

    async def _records(self, run_id: str, step_id: str) -> list[AttemptTranscript]:
        contents = await self.blobs.contents_of_step(run_id, step_id, ATTEMPT_TRANSCRIPT_KIND)
        return [await attempt_transcript(self.calls, run_id, step_id, c) for c in contents]

    async def _with_calls(
        self, run_id: str, step_id: str, pending: PendingAttempt
    ) -> PendingAttempt:
        """The attempt in flight has no record yet: its calls are the journal's."""
        if pending.started_at is None:
            return pending
        journal = await self.calls.calls_of_execution(run_id, step_id, pending.execution)
        calls = [_ENTRY.validate_python(j.record) for j in journal.values() if j.record]
        calls.sort(key=lambda call: call.started_at)
        return PendingAttempt(
            execution=pending.execution,
            attempt=pending.attempt,
            started_at=pending.started_at,
            next_attempt_at=pending.next_attempt_at,
            calls=calls,
        )


def _pending_attempts(description: WorkflowExecutionDescription) -> dict[str, PendingAttempt]:
    """Each step's activity in flight, by step id: its attempt running, or backing off."""
    found = {}
    for info in description.raw_description.pending_activities:
        execution = _execution(info)
        if execution is None:
            continue  # not a step's activity (a notification, a budget check)
        running = info.state in _RUNNING and info.HasField("last_started_time")
        found[step_of_activity(info.activity_id)] = PendingAttempt(
            execution=execution,
            attempt=info.attempt,
            started_at=_time(info.last_started_time) if running else None,
            next_attempt_at=(
                _time(info.next_attempt_schedule_time)
                if info.HasField("next_attempt_schedule_time")
                else None
            ),
        )
    return found


def _execution(info: PendingActivityInfo) -> int | None:
    _, separator, execution = info.activity_id.rpartition(ACTIVITY_ID_SEPARATOR)
    return int(execution) if separator and execution.isdigit() else None


def _time(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)
