"""The rules of a run, as one function: an event in, the run's new state and commands out.

``reduce`` takes ownership of the ``RunData`` it is given and returns what changed: the
commands the workflow must carry out (start or cancel an activity, a gate's timer, a
webhook, a search-attribute upsert) and, for an operator's request, the step it acted on
or why it refused. It reads no clock and does no I/O, so the workflow, its replays and
the API's history fold all reach the same state from the same events.

The closing rule: a run that fails or is rejected or cancelled keeps the first cause,
starts nothing new, asks every running task to cancel, and ends every step that has not
finished (pending, waiting, paused) as ``cancelled``. It closes once no task is running.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from workflows.engine.branches import Expressions, join_verdict
from workflows.engine.budget import allowed, grant_first, grant_more, raise_limits, release
from workflows.engine.child_steps import (
    child_finished,
    child_start,
    choose_branch,
    map_results_stored,
)
from workflows.engine.events import (
    AllowanceRequested,
    BudgetRaised,
    CancelGateTimer,
    CancelRequested,
    CancelTask,
    ChildFinished,
    ChildStarted,
    ChildStatusChanged,
    Command,
    ContinueAsNewSuggested,
    Decided,
    GateAlarm,
    GateExpired,
    MapResultsStored,
    Notify,
    Refusal,
    RetryRequested,
    RunEvent,
    RunStarted,
    StartGateTimer,
    StartTask,
    TaskFailed,
    TaskSucceeded,
    UpsertApprovers,
    UpsertCost,
    UpsertStatus,
)
from workflows.engine.gates import (
    OperatorRequest,
    arm_alarms,
    gate_alarm,
    open_gate,
    refusal,
    waiting_approvers,
)
from workflows.engine.state import (
    APPLIED_KEYS_KEPT,
    AppliedRequest,
    ClosingReason,
    ClosingStatus,
    RunData,
)
from workflows.plan import (
    Plan,
    PlanApprovalStep,
    PlanConditionStep,
    PlanRouterStep,
    PlanTaskStep,
)
from workflows.run_state import PauseReason, RecordedDecision, StepState, attention_status
from workflows.status import RunStatus, StepStatus, open_run_status
from workflows.task_step import Allowance


class PlanGraph:
    """The plan with its dependents and order precomputed: built once per execution."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.order = {s.id: i for i, s in enumerate(plan.steps)}
        self.steps = {s.id: s for s in plan.steps}
        self.dependents: dict[str, list[str]] = {s.id: [] for s in plan.steps}
        for step in plan.steps:
            for dep in step.after:
                self.dependents[dep].append(step.id)
        self.expressions = Expressions()


@dataclass
class Transition:
    commands: list[Command] = field(default_factory=list)
    refusal: Refusal | None = None
    step: StepState | None = None  # the step an operator's request acted on
    allowance: Allowance | None = None  # what a step that asked for more may now spend


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
        _close(run, "cancelled", None, "the run was cancelled", event.at, out)
    elif isinstance(event, ChildFinished):
        _child_finished(run, graph, event, out)
    elif isinstance(event, MapResultsStored):
        _map_results_stored(run, graph, event, out)
    elif isinstance(event, ChildStarted):
        started = _current_execution(run, event.step_id, event.execution)
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
        out.allowance = _allowance_requested(run, event)
    elif isinstance(event, BudgetRaised):
        raise_limits(run, event.limits)
    else:
        acted = _operator_request(run, graph, event, out)
        _settle(run, graph, event.at, out)
        if acted:
            _answer(run, event, out)
        return out
    _settle(run, graph, event.at, out)
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
        _promote(run, graph, list(graph.order), at, out)


def _allowance_requested(run: RunData, event: AllowanceRequested) -> Allowance | None:
    """More for a running step, as far as the budget goes; a closing or draining run, or a
    stale execution, gets no more than it holds."""
    state = _current_execution(run, event.step_id, event.execution)
    if state is None or run.budget is None or run.closing is not None or run.draining:
        return allowed(run, event.step_id)
    return grant_more(run, event.step_id, event.needed)


def _task_succeeded(run: RunData, graph: PlanGraph, event: TaskSucceeded, out: Transition) -> None:
    state = _current_execution(run, event.step_id, event.execution)
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
        _promote(run, graph, graph.dependents[state.id], event.at, out)


def _task_failed(run: RunData, graph: PlanGraph, event: TaskFailed, out: Transition) -> None:
    state = _current_execution(run, event.step_id, event.execution)
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
        _pause(state, out, "budget")
        return
    step = graph.steps[state.id]
    if run.closing is not None or (isinstance(step, PlanTaskStep) and step.on_failure == "fail"):
        state.status = StepStatus.FAILED
        _close(run, "failed", state.id, f"step '{state.id}' failed: {event.error}", event.at, out)
        return
    _pause(state, out)


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
        _close(run, "failed", state.id, f"gate '{state.id}' timed out", event.at, out)
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
            _promote(run, graph, [state.id], request.at, out)
        else:
            _enqueue(run, graph, state.id)
    else:
        state = run.steps[request.step_id]
        state.status = StepStatus.SKIPPED
        state.pause_reason = None
        state.output, state.output_ref = request.output, request.output_ref
        state.error = None
        state.finished_at = request.at
        state.log.append(f"skipped by {request.actor or 'an operator'}")
        _promote(run, graph, graph.dependents[state.id], request.at, out)
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
        _promote(run, graph, graph.dependents[state.id], at, out)
        return
    rejections = sum(1 for d in state.decisions if d.decision == "reject")
    if step.on_reject == "retry_upstream" and rejections <= step.max_rejections:
        # The gate opens again, in a new round, once its upstream tasks have run again.
        state.status = StepStatus.PENDING
        for task_id in step.upstream_tasks:
            run.feedback[task_id] = decision.comment
            run.steps[task_id].status = StepStatus.PENDING
            _enqueue(run, graph, task_id)
        return
    state.status = StepStatus.REJECTED
    state.finished_at = at
    who = decision.actor or "someone"
    _close(run, "rejected", state.id, f"gate '{state.id}' was rejected by {who}", at, out)


def _close(
    run: RunData,
    status: ClosingStatus,
    step_id: str | None,
    message: str,
    at: datetime,
    out: Transition,
) -> None:
    if run.closing is not None:
        return  # the first cause stands
    run.closing = ClosingReason(status=status, step_id=step_id, message=message)
    run.ready.clear()
    for state in run.steps.values():
        if state.status == StepStatus.RUNNING:
            out.commands.append(CancelTask(step_id=state.id))
        elif state.status in (StepStatus.PENDING, StepStatus.WAITING, StepStatus.PAUSED):
            if state.status == StepStatus.WAITING:
                out.commands.append(CancelGateTimer(step_id=state.id))
            state.status = StepStatus.CANCELLED
            state.deadline = None
            state.remind_at = state.escalate_at = None
            state.finished_at = at


def _promote(
    run: RunData, graph: PlanGraph, candidates: list[str], at: datetime, out: Transition
) -> None:
    """Settle the candidates whose edges allow it (the join rule, engine/branches.py):
    queue tasks and child steps, open gates, decide conditions and routers at once, and
    end the steps no branch took. What those last two settle is settled in turn."""
    pending = deque(candidates)
    while pending:
        step_id = pending.popleft()
        state = run.steps[step_id]
        if state.status != StepStatus.PENDING:
            continue
        verdict = join_verdict(run, graph.steps, step_id)
        if verdict is None:
            continue
        step = graph.steps[step_id]
        if verdict is False:
            state.status = StepStatus.NOT_TAKEN
            state.finished_at = at
            pending.extend(graph.dependents[step_id])
        elif isinstance(step, PlanApprovalStep):
            open_gate(state, step, at, out.commands)
        elif isinstance(step, PlanConditionStep | PlanRouterStep):
            if choose_branch(run, graph.plan, graph.expressions, state, step, at):
                pending.extend(graph.dependents[step_id])
            else:
                _pause(state, out)
        else:
            _enqueue(run, graph, step_id)


def _pause(state: StepState, out: Transition, reason: PauseReason = "failure") -> None:
    state.status = StepStatus.PAUSED
    state.pause_reason = reason
    out.commands.append(
        Notify(event="needs_attention", status=RunStatus.NEEDS_ATTENTION, step_id=state.id)
    )


def _child_finished(run: RunData, graph: PlanGraph, event: ChildFinished, out: Transition) -> None:
    state = _current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    state.child_status = None
    state.finished_at = event.at
    state.usage = event.usage if state.usage is None else state.usage + event.usage
    if event.outcome == "cancelled":
        state.status = StepStatus.CANCELLED
        return
    if event.outcome == "rejected":
        state.status = StepStatus.REJECTED
        message = f"step '{state.id}': its child run was rejected"
        _close(run, "rejected", state.id, message, event.at, out)
        return
    if event.outcome == "failed":
        state.error = event.error
        if run.closing is not None:
            state.status = StepStatus.FAILED
        else:
            _pause(state, out)
        return
    step = graph.steps[state.id]
    if not child_finished(run, graph.plan, graph.expressions, state, step, event, out.commands):
        _pause(state, out)
    else:
        _child_step_moved_on(run, graph, state, event.at, out)


def _map_results_stored(
    run: RunData, graph: PlanGraph, event: MapResultsStored, out: Transition
) -> None:
    state = _current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    state.finished_at = event.at
    map_results_stored(run, state, event)
    _child_step_moved_on(run, graph, state, event.at, out)


def _child_step_moved_on(
    run: RunData, graph: PlanGraph, state: StepState, at: datetime, out: Transition
) -> None:
    """After a child or a store: queue the next chunk or iteration, or settle what the
    completed step feeds; a step still running (storing a map's results) waits. A
    closing run starts no next chunk: the step ends cancelled, as pending steps did."""
    if state.status == StepStatus.PENDING and run.closing is not None:
        state.status = StepStatus.CANCELLED
    elif state.status == StepStatus.PENDING:
        _enqueue(run, graph, state.id)
    elif state.status == StepStatus.COMPLETED and run.closing is None:
        _promote(run, graph, graph.dependents[state.id], at, out)


def _enqueue(run: RunData, graph: PlanGraph, step_id: str) -> None:
    order = graph.order
    at = bisect.bisect_left(run.ready, order[step_id], key=order.__getitem__)
    if at < len(run.ready) and run.ready[at] == step_id:
        return
    run.ready.insert(at, step_id)


def _start_tasks(run: RunData, graph: PlanGraph, at: datetime, out: Transition) -> None:
    """Fill free slots from the ready queue, in plan order."""
    if run.closing is not None or run.draining or not run.ready:
        return
    free = graph.plan.max_parallel - run.running()
    started: list[str] = []
    settled_at_once = False
    while run.ready and len(started) < free:
        step_id = run.ready.pop(0)
        # A gate's retry_upstream round can send a queued task's dependency back to
        # pending: the task leaves the queue, and is queued again when it is met.
        if join_verdict(run, graph.steps, step_id) is True:
            started.append(step_id)
    for step_id in started:
        state = run.steps[step_id]
        step = graph.steps[step_id]
        state.started_at = state.started_at or at
        state.error = None
        state.finished_at = None
        if isinstance(step, PlanTaskStep):
            state.status = StepStatus.RUNNING
            state.execution += 1
            state.attempt += 1
            out.commands.append(
                StartTask(
                    step_id=step_id,
                    execution=state.execution,
                    allowance=grant_first(run, step_id),
                    journal_execution=run.continued_journals.get(step_id),
                )
            )
            continue
        child = child_start(run, graph.plan, graph.expressions, state, step, at)
        if child is not None:
            out.commands.append(child)
        elif state.status == StepStatus.PAUSED:
            _pause(state, out)
        elif state.status == StepStatus.COMPLETED:  # a map over no items
            _promote(run, graph, graph.dependents[step_id], at, out)
            settled_at_once = True
    if settled_at_once:
        _start_tasks(run, graph, at, out)


def _settle(run: RunData, graph: PlanGraph, at: datetime, out: Transition) -> None:
    """After every event: start what can start, and publish the status, the waiting
    gates' approvers and the cost if they changed."""
    _start_tasks(run, graph, at, out)
    approvers = waiting_approvers(run)
    if approvers != run.published_approvers:
        run.published_approvers = approvers
        out.commands.append(UpsertApprovers(approvers=approvers))
    cost = run.usage().cost_micros
    if cost != run.published_cost_micros:
        run.published_cost_micros = cost
        out.commands.append(UpsertCost(cost_micros=cost))
    finished = run.is_finished()
    status = (
        run.outcome()
        if finished
        else open_run_status([attention_status(s) for s in run.steps.values()])
    )
    if status == run.published_status:
        return
    run.published_status = status
    out.commands.append(UpsertStatus(status=status))
    if finished:
        out.commands.append(Notify(event="run_closed", status=status))


def _current_execution(run: RunData, step_id: str, execution: int) -> StepState | None:
    """The step, if this report is about its running execution (not a stale one)."""
    state = run.steps.get(step_id)
    if state is None or state.status != StepStatus.RUNNING or state.execution != execution:
        return None
    return state
