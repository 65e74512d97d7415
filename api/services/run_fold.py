"""An AgentWorkflowV2 run rebuilt from its history by folding the workflow's own reducer.

When the workflow cannot be asked (no worker answers the query, or the run was
cancelled, terminated or timed out), the API reads its history instead. Each recorded
event becomes the reducer event the workflow fed for it, so the two views of a run
come from one set of rules and cannot disagree about a step's status.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, TypeVar

from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent as RawEvent
from temporalio.converter import DataConverter

from workflows.children import CHILD_STATUS_SIGNAL, ChildStatus, parse_child_run_id
from workflows.engine.events import (
    AllowanceRequested,
    BudgetRaised,
    CancelRequested,
    CancelTask,
    ChildFinished,
    ChildStarted,
    ChildStatusChanged,
    ContinueAsNewSuggested,
    Decided,
    GateAlarm,
    GateAlarmKind,
    GateExpired,
    MapResultsStored,
    RetryRequested,
    RunEvent,
    RunStarted,
    SkipRequested,
    TaskFailed,
    TaskSucceeded,
)
from workflows.engine.reducer import reduce
from workflows.engine.state import AgentWorkflowV2Input, RunData
from workflows.engine.transitions import PlanGraph
from workflows.gate_timers import parse_gate_alarm_summary, parse_gate_timer_summary
from workflows.map_results import STORE_MAP_RESULTS, StoredMapResults, parse_store_activity_id
from workflows.operator_requests import IDEMPOTENT_UPDATE_PREFIX
from workflows.run_state import AgentWorkflowResult, Decision, RecordedDecision
from workflows.step_actions import BudgetChange, StepAction
from workflows.task_activity import ACTIVITY_ID_SEPARATOR, BUDGET_EXCEEDED
from workflows.task_step import AllowanceRequest, RunTaskStepResult, TokenUsage

T = TypeVar("T")
E = EventType

_STOPPED = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
}


# Written together with a workflow task's completion: its commands and the updates it
# took. The workflow fed what that task did (update handlers included) before it looked
# at Temporal's continue-as-new suggestion, so the fold feeds the suggestion after them.
_OF_THE_TASK = {
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    E.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
    E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    E.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
    E.EVENT_TYPE_TIMER_STARTED,
    E.EVENT_TYPE_TIMER_CANCELED,
    E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
    E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
    E.EVENT_TYPE_MARKER_RECORDED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}
_CHILD_EVENTS = {
    E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
    E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
}


def _child_ended(raw: RawEvent) -> Any:
    """The attributes of a child's ending event, whichever way it ended."""
    for name in (
        "child_workflow_execution_completed_event_attributes",
        "child_workflow_execution_failed_event_attributes",
        "child_workflow_execution_canceled_event_attributes",
        "child_workflow_execution_terminated_event_attributes",
        "child_workflow_execution_timed_out_event_attributes",
    ):
        if raw.HasField(name):
            return getattr(raw, name)
    raise ValueError(f"not a child's ending: {raw.event_type}")


# A task that failed or timed out did nothing: the next one does it again.
_TASK_LOST = {E.EVENT_TYPE_WORKFLOW_TASK_FAILED, E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT}


class _Fold:
    """The state of one fold: the run so far, and which activity or timer is which."""

    def __init__(self, converter: DataConverter) -> None:
        self.converter = converter
        self.run: RunData | None = None
        self.graph: PlanGraph | None = None
        self.activities: dict[int, tuple[str, int]] = {}  # scheduled event id → step, execution
        # The same, for the activities that store a map's results (workflows/map_results.py).
        self.stores: dict[int, tuple[str, int]] = {}
        self.attempts: dict[int, int] = {}  # scheduled event id → the last attempt started
        self.timers: dict[str, tuple[str, int]] = {}  # timer id → gate, round
        # timer id → reminder or escalation, gate, round
        self.alarms: dict[str, tuple[GateAlarmKind, str, int]] = {}
        self.children: dict[str, tuple[str, int]] = {}  # child run id → step, execution
        self.suggested_at: Any = None  # a task that saw the suggestion, not yet fed
        # Steps the run cancelled in the workflow task being folded. An activity result
        # delivered in that same task reaches the workflow as a cancellation (the SDK
        # raises CancelledError for a completed activity cancelled in the same activation).
        self.cancelled_in_task: set[str] = set()

    def feed(self, event: RunEvent) -> None:
        assert self.run is not None and self.graph is not None
        transition = reduce(self.run, self.graph, event)
        self.cancelled_in_task |= {
            c.step_id for c in transition.commands if isinstance(c, CancelTask)
        }

    async def apply(self, raw: RawEvent) -> None:
        at = raw.event_time.ToDatetime(tzinfo=UTC)
        kind = raw.event_type
        if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            attributes = raw.workflow_execution_started_event_attributes
            run_input = await self.decode(attributes.input, AgentWorkflowV2Input)
            if run_input is not None:
                self.graph = PlanGraph(run_input.plan)
                self.run = run_input.state or RunData.for_plan(run_input.plan)
                self.feed(RunStarted(at=at))
            return
        if self.run is None:
            return
        if kind in _TASK_LOST:
            self.suggested_at = None
        elif kind not in _OF_THE_TASK:
            self.feed_suggestion()
        if kind == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            self.cancelled_in_task = set()
            if raw.workflow_task_started_event_attributes.suggest_continue_as_new:
                self.suggested_at = at
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = raw.activity_task_scheduled_event_attributes
            step_id, _, execution = scheduled.activity_id.partition(ACTIVITY_ID_SEPARATOR)
            if scheduled.activity_type.name == STORE_MAP_RESULTS:
                self.stores[raw.event_id] = parse_store_activity_id(scheduled.activity_id)
            elif execution.isdigit():
                self.activities[raw.event_id] = (step_id, int(execution))
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes_started = raw.activity_task_started_event_attributes
            self.attempts[attributes_started.scheduled_event_id] = attributes_started.attempt
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = raw.activity_task_completed_event_attributes
            if completed.scheduled_event_id in self.stores:
                await self.map_results_stored(completed, at)
                return
            result = await self.decode(completed.result, RunTaskStepResult)
            activity = self.activities.get(completed.scheduled_event_id)
            if activity is not None and activity[0] in self.cancelled_in_task:
                self.feed(self.cancelled(activity, at))
            elif activity is not None and result is not None:
                self.feed(
                    TaskSucceeded(
                        at=at,
                        step_id=activity[0],
                        execution=activity[1],
                        output=result.output,
                        output_ref=result.output_ref,
                        usage=result.usage,
                        attempts=result.attempt,
                        transcript_ref=result.transcript_ref,
                    )
                )
        elif kind in (
            E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        ):
            await self.activity_ended(raw, at)
        elif kind == E.EVENT_TYPE_TIMER_STARTED:
            summary = await self.decode_one(raw.user_metadata.summary, str)
            gate = parse_gate_timer_summary(summary) if summary else None
            if gate is not None:
                self.timers[raw.timer_started_event_attributes.timer_id] = gate
            alarm = parse_gate_alarm_summary(summary) if summary else None
            if alarm is not None:
                self.alarms[raw.timer_started_event_attributes.timer_id] = alarm
        elif kind == E.EVENT_TYPE_TIMER_FIRED:
            timer_id = raw.timer_fired_event_attributes.timer_id
            gate = self.timers.get(timer_id)
            if gate is not None:
                self.feed(GateExpired(at=at, step_id=gate[0], round=gate[1]))
            fired = self.alarms.get(timer_id)
            if fired is not None:
                self.feed(GateAlarm(at=at, step_id=fired[1], round=fired[2], alarm=fired[0]))
        elif kind in _CHILD_EVENTS:
            await self.child_event(raw, at)
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signal = raw.workflow_execution_signaled_event_attributes
            if signal.signal_name == CHILD_STATUS_SIGNAL:
                report = await self.decode(signal.input, ChildStatus)
                if report is not None:
                    self.feed(ChildStatusChanged(at=at, **report.model_dump()))
                return
            decision = await self.decode(signal.input, Decision)
            if signal.signal_name == "decision" and decision is not None:
                recorded = RecordedDecision(**decision.model_dump(), decided_at=at)
                self.feed(Decided(at=at, decision=recorded, via="signal"))
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            await self.update_accepted(raw, at)
        elif kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            self.feed(CancelRequested(at=at))
        elif kind in _STOPPED:
            # Terminated or timed out from outside: nothing in flight will report back.
            self.feed(CancelRequested(at=at))

    async def child_event(self, raw: RawEvent, at: Any) -> None:
        """A map's chunk, a loop's iteration or a sub-workflow: started, then ended."""
        kind = raw.event_type
        if kind == E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child_id = raw.start_child_workflow_execution_initiated_event_attributes.workflow_id
            parsed = parse_child_run_id(child_id)
            if parsed is not None:
                self.children[child_id] = parsed
                self.feed(
                    ChildStarted(
                        at=at, step_id=parsed[0], execution=parsed[1], child_run_id=child_id
                    )
                )
            return
        ended = _child_ended(raw)
        child = self.children.get(ended.workflow_execution.workflow_id)
        if child is None:
            return
        step_id, execution = child
        if kind == E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
            attributes = raw.child_workflow_execution_completed_event_attributes
            result = await self.decode(attributes.result, AgentWorkflowResult)
            if result is None:
                return
            event = ChildFinished(
                at=at,
                step_id=step_id,
                execution=execution,
                outcome="rejected" if result.outcome == "rejected" else "completed",
                outputs=result.outputs_by_step(),
                output_refs=result.output_refs_by_step(),
                usage=result.usage(),
                final_output=result.final_output,
            )
        elif kind == E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
            event = ChildFinished(
                at=at, step_id=step_id, execution=execution, outcome="cancelled", error="cancelled"
            )
        else:
            failure = raw.child_workflow_execution_failed_event_attributes.failure
            message = failure.cause.message if failure.HasField("cause") else failure.message
            event = ChildFinished(
                at=at, step_id=step_id, execution=execution, outcome="failed", error=message
            )
        self.feed(event)

    async def map_results_stored(self, completed: Any, at: Any) -> None:
        store = self.stores[completed.scheduled_event_id]
        stored = await self.decode(completed.result, StoredMapResults)
        if store[0] in self.cancelled_in_task:
            self.feed(self.cancelled(store, at))
        elif stored is not None:
            self.feed(
                MapResultsStored(
                    at=at,
                    step_id=store[0],
                    execution=store[1],
                    ref=stored.ref,
                    preview=stored.preview,
                )
            )

    @staticmethod
    def cancelled(activity: tuple[str, int], at: Any) -> TaskFailed:
        """What the workflow feeds for a task it cancelled (AgentWorkflowV2._execute_task)."""
        step_id, execution = activity
        return TaskFailed(
            at=at,
            step_id=step_id,
            execution=execution,
            error="cancelled",
            attempts=1,
            cancelled=True,
        )

    def feed_suggestion(self) -> None:
        """The suggestion a task saw, after all that task did."""
        if self.run is not None and self.suggested_at is not None and not self.run.draining:
            self.feed(ContinueAsNewSuggested(at=self.suggested_at))
        self.suggested_at = None

    async def activity_ended(self, raw: RawEvent, at: Any) -> None:
        kind = raw.event_type
        spent: TokenUsage | None = None
        if kind == E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            ended = raw.activity_task_failed_event_attributes
            scheduled, message = ended.scheduled_event_id, ended.failure.message
            spent = await self.spent_over_budget(ended.failure)
        elif kind == E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            timed_out = raw.activity_task_timed_out_event_attributes
            scheduled, message = timed_out.scheduled_event_id, timed_out.failure.message
        else:
            scheduled, message = raw.activity_task_canceled_event_attributes.scheduled_event_id, ""
        store = self.stores.get(scheduled)
        activity = self.activities.get(scheduled) or store
        if activity is None:
            return
        if activity[0] in self.cancelled_in_task:
            self.feed(self.cancelled(activity, at))
            return
        self.feed(
            TaskFailed(
                at=at,
                step_id=activity[0],
                execution=activity[1],
                error=f"storing its results: {message}" if store else message,
                attempts=1 if store else self.attempts.get(scheduled, 1),
                cancelled=kind == E.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
                over_budget=spent is not None,
                usage=spent,
            )
        )

    async def spent_over_budget(self, failure: Any) -> TokenUsage | None:
        """What ``stopped_over_budget`` reads in the workflow, from the failure's proto."""
        info = failure.application_failure_info
        if info.type != BUDGET_EXCEEDED:
            return None
        details = list(info.details.payloads)
        if len(details) < 2:
            return TokenUsage()
        [spent] = await self.converter.decode(details[1:2], [TokenUsage])
        return spent  # type: ignore[no-any-return]

    async def update_accepted(self, raw: RawEvent, at: Any) -> None:
        request = raw.workflow_execution_update_accepted_event_attributes.accepted_request
        update_id = request.meta.update_id
        key = update_id if update_id.startswith(IDEMPOTENT_UPDATE_PREFIX) else None
        name, args = request.input.name, request.input.args
        if name == "decide":
            decision = await self.decode(args, Decision)
            if decision is not None:
                recorded = RecordedDecision(**decision.model_dump(), decided_at=at)
                self.feed(Decided(at=at, decision=recorded, request_key=key))
        elif name == "request_allowance":
            request = await self.decode(args, AllowanceRequest)
            if request is not None:
                self.feed(AllowanceRequested(at=at, **request.model_dump()))
        elif name == "raise_budget":
            change = await self.decode(args, BudgetChange)
            if change is not None:
                self.feed(BudgetRaised(at=at, limits=change.limits, actor=change.actor))
        elif name in ("retry_step", "skip_step"):
            action = await self.decode(args, StepAction)
            if action is None:
                return
            if name == "retry_step":
                self.feed(
                    RetryRequested(
                        at=at, step_id=action.step_id, actor=action.actor, request_key=key
                    )
                )
            else:
                self.feed(
                    SkipRequested(
                        at=at,
                        step_id=action.step_id,
                        actor=action.actor,
                        output=action.output or "",
                        output_ref=action.output_ref,
                        request_key=key,
                    )
                )

    async def decode(self, payloads: Payloads, kind: type[T]) -> T | None:
        if not payloads.payloads:
            return None
        [value] = await self.converter.decode(payloads.payloads[:1], [kind])
        return value  # type: ignore[no-any-return]

    async def decode_one(self, payload: Payload, kind: type[T]) -> T | None:
        if not payload.data and not payload.metadata:
            return None
        [value] = await self.converter.decode([payload], [kind])
        return value  # type: ignore[no-any-return]


async def fold_history(events: list[RawEvent], converter: DataConverter) -> RunData | None:
    """The run's state as the workflow held it after these events; None if not a v2 run.

    ``events`` is one execution's history: a continued execution starts from the state
    carried in its input, so the last execution alone gives the whole run.
    """
    fold = _Fold(converter)
    for raw in events:
        await fold.apply(raw)
    fold.feed_suggestion()
    return fold.run
