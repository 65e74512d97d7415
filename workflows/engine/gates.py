"""Approval gates' rules that need no other part of the reducer: who may decide and
when a request is refused, opening a gate with its deadline and alarms, its reminder and
escalation, and who the waiting gates are waiting for (``KasalApprovers``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.engine.events import (
    Command,
    Decided,
    GateAlarm,
    Notify,
    NotifyApprovers,
    Refusal,
    RetryRequested,
    SkipRequested,
    StartGateAlarm,
    StartGateTimer,
)
from workflows.engine.state import RunData
from workflows.plan import PlanApprovalStep
from workflows.roles import Role, may_decide
from workflows.run_state import StepState
from workflows.status import RunStatus, StepStatus

OperatorRequest = Decided | RetryRequested | SkipRequested


def refusal(run: RunData, request: OperatorRequest) -> Refusal | None:
    """Why an operator's request cannot apply now; None when it can (or already did)."""
    if run.applied_request(request.request_key) is not None:
        return None
    step_id = requested_step(request)
    state = run.steps.get(step_id)
    if state is None:
        return Refusal(type="UnknownStep", message=f"no step '{step_id}' in this run")
    if run.closing is not None:
        return Refusal(
            type="RunClosing", message=f"the run is closing ({run.closing.status}): {step_id}"
        )
    expected = StepStatus.WAITING if isinstance(request, Decided) else StepStatus.PAUSED
    if state.status != expected:
        return Refusal(
            type="NotWaiting" if expected == StepStatus.WAITING else "NotPaused",
            message=f"step '{step_id}' is {state.status.value}, not {expected.value}",
        )
    if isinstance(request, Decided):
        decision = request.decision
        if decision.actor_role is not None and not may_decide(
            state.approvers, decision.actor, decision.actor_role
        ):
            who = ", ".join(state.approvers) or "operators"
            return Refusal(
                type="NotAnApprover",
                message=f"step '{step_id}' is decided by {who}; {decision.actor} is not one",
            )
        asked = request.decision.round
        if asked is not None and asked != state.round:
            return Refusal(
                type="StaleRound",
                message=f"round {asked} is over; step '{step_id}' waits in round {state.round}",
            )
    return None


def requested_step(request: OperatorRequest) -> str:
    return request.decision.step_id if isinstance(request, Decided) else request.step_id


def result_in_flight(run: RunData, request: OperatorRequest, problem: Refusal) -> bool:
    """Whether the request was refused for a result the run has but has not applied yet.

    Temporal hands a workflow a task's updates before the activity and child results
    that came in the same task, while a query or the API's fold of the history already
    shows those results. An operator can so see a step paused (or a gate waiting) that
    the workflow, judging the request, still has running (or pending). A retry or skip
    names the execution it saw paused, a decision the round it saw waiting: a step still
    running that execution, or a gate one round short of it, has its result in this very
    task, and the request is judged again once it is applied."""
    state = run.steps.get(requested_step(request))
    if state is None:
        return False
    if problem.type == "NotPaused" and not isinstance(request, Decided):
        return state.status == StepStatus.RUNNING and state.execution == request.seen_execution
    if problem.type == "NotWaiting" and isinstance(request, Decided):
        seen = request.decision.round
        return state.status == StepStatus.PENDING and seen is not None and state.round == seen - 1
    return False


# --- events -----------------------------------------------------------------------------


def gate_alarm(
    run: RunData, step: PlanApprovalStep, event: GateAlarm, commands: list[Command]
) -> None:
    state = run.steps[event.step_id]
    if state.status != StepStatus.WAITING or state.round != event.round or run.closing:
        return  # decided already, or an older round's timer
    if (state.remind_at if event.alarm == "remind" else state.escalate_at) is None:
        return  # it went off already
    if event.alarm == "remind":
        state.remind_at = None
        state.log.append(f"reminded {', '.join(state.approvers) or 'operators'}")
        commands.append(
            NotifyApprovers(
                step_id=state.id, round=state.round, notice="reminder", recipients=state.approvers
            )
        )
        return
    state.escalate_at = None
    # Those escalated to may decide too; a gate that named no approvers keeps admitting
    # operators, said as the role, since a non-empty list admits only whom it names.
    approvers = state.approvers or [Role.OPERATOR.value]
    state.approvers = approvers + [a for a in step.escalate_to if a not in approvers]
    state.log.append(f"escalated to {', '.join(step.escalate_to)}")
    commands.append(
        NotifyApprovers(
            step_id=state.id,
            round=state.round,
            notice="escalation",
            recipients=list(step.escalate_to),
        )
    )


def open_gate(
    state: StepState, step: PlanApprovalStep, at: datetime, commands: list[Command]
) -> None:
    state.round += 1
    state.status = StepStatus.WAITING
    state.message = step.message
    state.approvers = list(step.approvers)
    state.started_at = state.started_at or at
    state.finished_at = None
    state.waiting_since = at
    state.deadline = at + timedelta(seconds=step.timeout_seconds)
    commands.append(StartGateTimer(step_id=state.id, round=state.round, deadline=state.deadline))
    state.remind_at = _after(at, step.remind_after_seconds)
    state.escalate_at = _after(at, step.escalate_after_seconds)
    arm_alarms(state, commands)
    commands.append(
        Notify(
            event="waiting_for_approval", status=RunStatus.WAITING_FOR_APPROVAL, step_id=state.id
        )
    )
    commands.append(
        NotifyApprovers(
            step_id=state.id, round=state.round, notice="waiting", recipients=state.approvers
        )
    )


def _after(at: datetime, seconds: float | None) -> datetime | None:
    return None if seconds is None else at + timedelta(seconds=seconds)


def arm_alarms(state: StepState, commands: list[Command]) -> None:
    """Start a waiting gate's reminder and escalation timers, if it has them (gates of
    definitions from before them have none, so their histories see no new command)."""
    if state.remind_at is not None:
        commands.append(
            StartGateAlarm(step_id=state.id, round=state.round, alarm="remind", at=state.remind_at)
        )
    if state.escalate_at is not None:
        commands.append(
            StartGateAlarm(
                step_id=state.id, round=state.round, alarm="escalate", at=state.escalate_at
            )
        )


def waiting_approvers(run: RunData) -> list[str]:
    """Who may decide the gates now waiting, for ``KasalApprovers``: each gate's approvers
    lowercased, and ``operator`` for a gate without any (it admits operators and above)."""
    names: set[str] = set()
    for state in run.steps.values():
        if state.status == StepStatus.WAITING:
            names.update(a.strip().lower() for a in state.approvers or [Role.OPERATOR.value])
    return sorted(names)
