"""The rules of a run, as one function: an event in, the run's new state and commands out.

``reduce`` takes ownership of the ``RunData`` it is given and returns what changed: the
commands the workflow must carry out (start or cancel an activity, a gate's timer, a
webhook, a search-attribute upsert) and, for an operator's request, the step it acted on
or why it refused. It reads no clock and does no I/O, so the workflow, its replays and
the API's history fold all reach the same state from the same events. The rules all
events share, the closing rule among them, are in engine/transitions.py.
"""

from __future__ import annotations

from datetime import datetime

from workflows.engine.budget import allowed, grant_more, raise_limits, release
from workflows.engine.child_events import on_child_finished, on_map_results_stored
from workflows.engine.events import (
    AllowanceRequested,
    BudgetRaised,
    CancelGateTimer,
    CancelRequested,
    ChildFinished,
    ChildStarted,
    ChildStatusChanged,
    ContinueAsNewSuggested,
    Decided,
    GateAlarm,
    GateExpired,
    MapResultsStored,
    RetryRequested,
    RunEvent,
    RunStarted,
    StartGateTimer,
    TaskFailed,
    TaskSucceeded,
)
from workflows.engine.gates import (
    OperatorRequest,
    arm_alarms,
    gate_alarm,
    refusal,
)
from workflows.engine.state import (
    APPLIED_KEYS_KEPT,
    AppliedRequest,
    RunData,
)
from workflows.engine.transitions import (
    PlanGraph,
    Transition,
    close,
    current_execution,
    enqueue,
    pause,
    promote,
    settle,
)
from workflows.plan import (
    PlanApprovalStep,
    PlanConditionStep,
    PlanRouterStep,
    PlanTaskStep,
)
from workflows.run_state import RecordedDecision, StepState
from workflows.status import StepStatus
from workflows.task_step import Allowance


def reduce(run: RunData, graph: PlanGraph, event: RunEvent) -> Transition:
    """Apply ``event`` to ``run`` (in place) and say what the workflow must do."""
    out = Transition()
    if isinstance(event, RunStarted):
        _resume(run, graph, event.at, out)
    elif isinstance(event, TaskSucceeded):
        _task_succeeded(run, graph, event, out)
    elif isinstance(event, TaskFailed):
        _task_failed(run, graph, event, out)
    elif isinstance(event, GateExpired):
        _gate_expired(run, graph, event, out)
    elif isinstance(event, GateAlarm):
        step = graph.steps[event.step_id]
        assert isinstance(step, PlanApprovalStep)
        gate_alarm(run, step, event, out.commands)
    elif isinstance(event, CancelRequested):
        close(run, "cancelled", None, "the run was cancelled", event.at, out)
    elif isinstance(event, ChildFinished):
        on_child_finished(run, graph, event, out)
    elif isinstance(event, MapResultsStored):
        on_map_results_stored(run, graph, event, out)
    elif isinstance(event, ChildStarted):
        started = current_execution(run, event.step_id, event.execution)
        if started is not None and event.child_run_id not in started.child_run_ids:
            started.child_run_ids.append(event.child_run_id)
    elif isinstance(event, ChildStatusChanged):
        state = run.steps.get(event.step_id)
        # Only the running step's newest child counts: a late word from a finished one
        # (its own close) must not stay on a step that has moved on.
        if (
            state is not None
            and state.status == StepStatus.RUNNING
            and state.child_run_ids[-1:] == [event.child_run_id]
        ):
            state.child_status = event.status
    elif isinstance(event, ContinueAsNewSuggested):
        run.draining = True
    elif isinstance(event, AllowanceRequested):
        out.allowance = _allowance_requested(run, event, graph.width)
    elif isinstance(event, BudgetRaised):
        raise_limits(run, event.limits)
    else:
        acted = _operator_request(run, graph, event, out)
        settle(run, graph, event.at, out)
        if acted:
            _answer(run, event, out)
        return out
    settle(run, graph, event.at, out)
    return out


def _resume(run: RunData, graph: PlanGraph, at: datetime, out: Transition) -> None:
    """Start (or continue after continue-as-new): re-arm gates, queue every ready task."""
    run.draining = False
    for state in run.steps.values():
        if state.status == StepStatus.WAITING and state.deadline is not None:
            out.commands.append(
                StartGateTimer(step_id=state.id, round=state.round, deadline=state.deadline)
            )
        if state.status == StepStatus.WAITING:
            arm_alarms(state, out.commands)
    if run.closing is None:
        promote(run, graph, list(graph.order), at, out)


def _allowance_requested(run: RunData, event: AllowanceRequested, width: int) -> Allowance | None:
    """More for a running step, when the budget has it; a closing run, or a stale
    execution, gets no more than it holds. A draining run still gives: its steps in
    flight finish before it continues as new, and should not pause for want of it."""
    state = current_execution(run, event.step_id, event.execution)
    if state is None or run.budget is None or run.closing is not None:
        return allowed(run, event.step_id)
    return grant_more(run, event.step_id, event.needed, width)


def _task_succeeded(run: RunData, graph: PlanGraph, event: TaskSucceeded, out: Transition) -> None:
    state = current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    release(run, state.id)
    run.continued_journals.pop(state.id, None)
    state.status = StepStatus.COMPLETED
    state.attempt += event.attempts - 1
    state.output, state.output_ref = event.output, event.output_ref
    state.usage = event.usage if state.usage is None else state.usage + event.usage
    state.transcript_ref = event.transcript_ref
    state.finished_at = event.at
    if run.closing is None:
        promote(run, graph, graph.dependents[state.id], event.at, out)


def _task_failed(run: RunData, graph: PlanGraph, event: TaskFailed, out: Transition) -> None:
    state = current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    state.attempt += event.attempts - 1
    state.finished_at = event.at
    release(run, state.id)
    if event.usage is not None:
        state.usage = event.usage if state.usage is None else state.usage + event.usage
    if event.cancelled:
        state.status = StepStatus.CANCELLED
        return
    state.error = event.error
    if event.over_budget and run.closing is None:
        run.continued_journals.setdefault(state.id, event.execution)
        pause(state, out, "budget")
        return
    step = graph.steps[state.id]
    if run.closing is not None or (isinstance(step, PlanTaskStep) and step.on_failure == "fail"):
        state.status = StepStatus.FAILED
        close(run, "failed", state.id, f"step '{state.id}' failed: {event.error}", event.at, out)
        return
    pause(state, out)


def _gate_expired(run: RunData, graph: PlanGraph, event: GateExpired, out: Transition) -> None:
    state = run.steps[event.step_id]
    if state.status != StepStatus.WAITING or state.round != event.round or run.closing:
        return  # decided already, or an older round's timer
    step = graph.steps[state.id]
    assert isinstance(step, PlanApprovalStep)
    if step.on_timeout == "fail":
        state.status = StepStatus.FAILED
        state.error = "no decision before the deadline"
        state.finished_at = event.at
        close(run, "failed", state.id, f"gate '{state.id}' timed out", event.at, out)
        return
    decision = RecordedDecision(
        step_id=state.id,
        decision=step.on_timeout,
        actor="timeout",
        comment="no decision before the deadline",
        round=state.round,
        decided_at=event.at,
    )
    _decide(run, graph, state, step, decision, event.at, out)


def _operator_request(
    run: RunData, graph: PlanGraph, request: OperatorRequest, out: Transition
) -> bool:
    """Apply the request; True when it acted (not refused, not a repeat of one applied)."""
    applied = run.applied_request(request.request_key)
    if applied is not None:
        out.step = applied.step  # a retried request gets its first answer, and acts once
        return False
    out.refusal = refusal(run, request)
    if out.refusal is not None:
        return False
    if isinstance(request, Decided):
        state = run.steps[request.decision.step_id]
        step = graph.steps[state.id]
        assert isinstance(step, PlanApprovalStep)
        decision = request.decision.model_copy(update={"round": state.round})
        if request.via == "signal":
            state.log.append(f"decision by signal from {decision.actor or 'someone'}")
        _decide(run, graph, state, step, decision, request.at, out)
    elif isinstance(request, RetryRequested):
        state = run.steps[request.step_id]
        state.status = StepStatus.PENDING
        state.pause_reason = None
        state.log.append(f"retried by {request.actor or 'an operator'}")
        if isinstance(graph.steps[state.id], PlanConditionStep | PlanRouterStep):
            promote(run, graph, [state.id], request.at, out)
        else:
            enqueue(run, graph, state.id)
    else:
        state = run.steps[request.step_id]
        state.status = StepStatus.SKIPPED
        state.pause_reason = None
        state.output, state.output_ref = request.output, request.output_ref
        state.error = None
        state.finished_at = request.at
        state.log.append(f"skipped by {request.actor or 'an operator'}")
        promote(run, graph, graph.dependents[state.id], request.at, out)
    out.step = state
    return True


def _answer(run: RunData, request: OperatorRequest, out: Transition) -> None:
    """The answer is the step as the request left it; a retried request gets it too."""
    assert out.step is not None
    out.step = out.step.model_copy(deep=True)
    if request.request_key is not None:
        run.applied.append(AppliedRequest(key=request.request_key, step=out.step))
        del run.applied[:-APPLIED_KEYS_KEPT]


# --- rules shared by the events ---------------------------------------------------------


def _decide(
    run: RunData,
    graph: PlanGraph,
    state: StepState,
    step: PlanApprovalStep,
    decision: RecordedDecision,
    at: datetime,
    out: Transition,
) -> None:
    state.decisions.append(decision)
    state.deadline = None
    state.remind_at = state.escalate_at = None
    out.commands.append(CancelGateTimer(step_id=state.id))
    if decision.decision == "approve":
        state.status = StepStatus.APPROVED
        state.finished_at = at
        promote(run, graph, graph.dependents[state.id], at, out)
        return
    rejections = sum(1 for d in state.decisions if d.decision == "reject")
    if step.on_reject == "retry_upstream" and rejections <= step.max_rejections:
        # The gate opens again, in a new round, once its upstream tasks have run again.
        state.status = StepStatus.PENDING
        for task_id in step.upstream_tasks:
            run.feedback[task_id] = decision.comment
            run.steps[task_id].status = StepStatus.PENDING
            enqueue(run, graph, task_id)
        return
    state.status = StepStatus.REJECTED
    state.finished_at = at
    who = decision.actor or "someone"
    close(run, "rejected", state.id, f"gate '{state.id}' was rejected by {who}", at, out)
