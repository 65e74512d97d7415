"""Reading a run from its Temporal event history.

Used for the history endpoint, and to rebuild step state where the workflow cannot be
asked: a run that was cancelled, terminated or timed out, or an open run whose worker
does not answer queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent as RawEvent
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter

from api.schemas.runs import HistoryEvent
from api.services.failure_messages import decode_event_failures
from workflows.run_state import AgentWorkflowInput, StepState
from workflows.status import StepStatus
from workflows.task_activity import ACTIVITY_ID_SEPARATOR
from workflows.task_step import RunTaskStepResult

T = TypeVar("T")

# The run stopped from outside: what was in flight then was cut short.
_RUN_STOPPED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
}


def step_of_activity(activity_id: str) -> str:
    return activity_id.split(ACTIVITY_ID_SEPARATOR, 1)[0]


def event_type_name(event_type: int) -> str:
    """EVENT_TYPE_ACTIVITY_TASK_SCHEDULED → ActivityTaskScheduled."""
    words = EventType.Name(event_type).removeprefix("EVENT_TYPE_").split("_")
    return "".join(word.capitalize() for word in words)


async def fetch_events(
    handle: WorkflowHandle[Any, Any], converter: DataConverter
) -> list[RawEvent]:
    """The events, their failure messages decoded if payload encryption encoded them."""
    events = [event async for event in handle.fetch_history_events()]
    await decode_event_failures(events, converter)
    return events


async def fetch_chain_events(client: Client, run_id: str, first_run_id: str) -> list[RawEvent]:
    """Every execution's events, first to current, joined across continue-as-new."""
    events: list[RawEvent] = []
    execution: str | None = first_run_id
    while execution:
        handle = client.get_workflow_handle(run_id, run_id=execution)
        chunk = await fetch_events(handle, client.data_converter)
        events += chunk
        last = chunk[-1] if chunk else None
        continued = (
            last is not None
            and last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        )
        execution = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if continued and last is not None
            else None
        )
    return events


def readable_events(events: list[RawEvent]) -> list[HistoryEvent]:
    steps_by_scheduled_id: dict[int, str] = {}
    readable = []
    for event in events:
        step_id = _step_id(event, steps_by_scheduled_id)
        details: dict[str, Any] = {}
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            details["attempt"] = event.activity_task_started_event_attributes.attempt
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            details["error"] = event.activity_task_failed_event_attributes.failure.message
        readable.append(
            HistoryEvent(
                event_id=event.event_id,
                time=event.event_time.ToDatetime(tzinfo=UTC),
                type=event_type_name(event.event_type),
                step_id=step_id,
                details=details,
            )
        )
    return readable


def _step_id(event: RawEvent, steps_by_scheduled_id: dict[int, str]) -> str | None:
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        step_id = step_of_activity(event.activity_task_scheduled_event_attributes.activity_id)
        steps_by_scheduled_id[event.event_id] = step_id
        return step_id
    attributes_name = event.WhichOneof("attributes")
    if attributes_name and attributes_name.startswith("activity_task_"):
        scheduled_id = getattr(getattr(event, attributes_name), "scheduled_event_id", 0)
        return steps_by_scheduled_id.get(scheduled_id)
    return None


async def steps_from_history(
    events: list[RawEvent], converter: DataConverter
) -> tuple[AgentWorkflowInput | None, list[StepState]]:
    """Each step's last known state, as far as the history shows it."""
    run_input: AgentWorkflowInput | None = None
    steps: dict[str, StepState] = {}
    steps_by_scheduled_id: dict[int, str] = {}
    for event in events:
        when = event.event_time.ToDatetime(tzinfo=UTC)
        kind = event.event_type
        if kind in _RUN_STOPPED:
            for state in steps.values():
                if state.status in (StepStatus.RUNNING, StepStatus.WAITING):
                    _finish(state, StepStatus.CANCELLED, when)
            continue
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            run_input = await _decode(
                converter,
                event.workflow_execution_started_event_attributes.input,
                AgentWorkflowInput,
            )
            if run_input is not None:
                steps = {s.id: StepState(id=s.id, type=s.type) for s in run_input.plan.steps}
                # An execution that continued a run starts from the state it was handed.
                if run_input.carried is not None:
                    steps.update({s.id: s for s in run_input.carried.steps})
            continue
        step_id = _step_id(event, steps_by_scheduled_id)
        state = steps.get(step_id) if step_id else None
        if state is None:
            continue
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            state.status = StepStatus.RUNNING
            state.started_at = state.started_at or when
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            state.attempt += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            result = await _decode(
                converter, event.activity_task_completed_event_attributes.result, RunTaskStepResult
            )
            _finish(state, StepStatus.COMPLETED, when)
            if result is not None:
                state.output, state.output_ref = result.output, result.output_ref
                state.usage, state.transcript_ref = result.usage, result.transcript_ref
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            _finish(state, StepStatus.FAILED, when)
            state.error = event.activity_task_failed_event_attributes.failure.message
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            _finish(state, StepStatus.FAILED, when)
            state.error = event.activity_task_timed_out_event_attributes.failure.message
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            _finish(state, StepStatus.CANCELLED, when)
    return run_input, list(steps.values())


def _finish(state: StepState, status: StepStatus, when: datetime) -> None:
    state.status = status
    state.finished_at = when


async def _decode(converter: DataConverter, payloads: Payloads, kind: type[T]) -> T | None:
    if not payloads.payloads:
        return None
    [value] = await converter.decode(payloads.payloads, [kind])
    return value  # type: ignore[no-any-return]
