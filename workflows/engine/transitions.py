"""The rules every kind of event shares: settling what a step's end allows (the join
rule), queueing and starting tasks and child steps, pausing a step, and closing a run.

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
from workflows.engine.budget import grant_first
from workflows.engine.child_steps import child_start, choose_branch
from workflows.engine.events import (
    CancelGateTimer,
    CancelTask,
    Command,
    Notify,
    Refusal,
    StartTask,
    UpsertApprovers,
    UpsertCost,
    UpsertStatus,
)
from workflows.engine.gates import open_gate, waiting_approvers
from workflows.engine.state import ClosingReason, ClosingStatus, RunData
from workflows.plan import Plan, PlanApprovalStep, PlanConditionStep, PlanRouterStep, PlanTaskStep
from workflows.run_state import PauseReason, StepState, attention_status
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
        # The most steps that can hold a share of the budget at once.
        self.width = min(plan.max_parallel, len(plan.steps))


@dataclass
class Transition:
    commands: list[Command] = field(default_factory=list)
    refusal: Refusal | None = None
    step: StepState | None = None  # the step an operator's request acted on
    allowance: Allowance | None = None  # what a step that asked for more may now spend


def close(
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


def promote(
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
                pause(state, out)
        else:
            enqueue(run, graph, step_id)


def pause(state: StepState, out: Transition, reason: PauseReason = "failure") -> None:
    state.status = StepStatus.PAUSED
    state.pause_reason = reason
    out.commands.append(
        Notify(event="needs_attention", status=RunStatus.NEEDS_ATTENTION, step_id=state.id)
    )


def enqueue(run: RunData, graph: PlanGraph, step_id: str) -> None:
    order = graph.order
    at = bisect.bisect_left(run.ready, order[step_id], key=order.__getitem__)
    if at < len(run.ready) and run.ready[at] == step_id:
        return
    run.ready.insert(at, step_id)


def start_tasks(run: RunData, graph: PlanGraph, at: datetime, out: Transition) -> None:
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
                    allowance=grant_first(run, step_id, graph.width),
                    journal_execution=run.continued_journals.get(step_id),
                )
            )
            continue
        child = child_start(run, graph.plan, graph.expressions, state, step, at)
        if child is not None:
            out.commands.append(child)
        elif state.status == StepStatus.PAUSED:
            pause(state, out)
        elif state.status == StepStatus.COMPLETED:  # a map over no items
            promote(run, graph, graph.dependents[step_id], at, out)
            settled_at_once = True
    if settled_at_once:
        start_tasks(run, graph, at, out)


def settle(run: RunData, graph: PlanGraph, at: datetime, out: Transition) -> None:
    """After every event: start what can start, and publish the status, the waiting
    gates' approvers and the cost if they changed."""
    start_tasks(run, graph, at, out)
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


def current_execution(run: RunData, step_id: str, execution: int) -> StepState | None:
    """The step, if this report is about its running execution (not a stale one)."""
    state = run.steps.get(step_id)
    if state is None or state.status != StepStatus.RUNNING or state.execution != execution:
        return None
    return state
