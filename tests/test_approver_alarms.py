"""A waiting gate's reminder and escalation, and the KasalApprovers it publishes, as the
reducer's rules: no Temporal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.services.run_listing import approvers_clause
from tests.helpers import agent, task
from tests.reducer_driver import ReducerDriver
from workflows.approver_notice import notice_text
from workflows.compiler import CompilationFailed, compile_plan
from workflows.engine.events import (
    CancelGateTimer,
    GateAlarm,
    NotifyApprovers,
    StartGateAlarm,
    UpsertApprovers,
)
from workflows.roles import Role, may_decide
from workflows.status import StepStatus


def gated(**gate: Any) -> dict[str, Any]:
    return {
        "agents": [agent()],
        "steps": [
            task("draft"),
            {"id": "review", "type": "approval", "after": ["draft"], "message": "ok?", **gate},
        ],
    }


def alarm(run: ReducerDriver, kind: str) -> None:
    state = run.run.steps["review"]
    run.feed(GateAlarm(at=run.now, step_id="review", round=state.round, alarm=kind))  # type: ignore[arg-type]


def notices(run: ReducerDriver) -> list[tuple[str, list[str]]]:
    return [(c.notice, c.recipients) for c in run.commands if isinstance(c, NotifyApprovers)]


def published(run: ReducerDriver) -> list[list[str]]:
    return [c.approvers for c in run.commands if isinstance(c, UpsertApprovers)]


def test_a_gate_without_reminders_arms_no_alarm() -> None:
    run = ReducerDriver(gated())
    run.start()
    run.succeed("draft")
    assert run.of_kind("start_gate_alarm") == []
    assert notices(run) == [("waiting", [])]
    assert published(run) == [["operator"]]  # no approvers: operators and above decide
    run.decide("review", "approve")
    assert published(run) == [["operator"], []]


def test_the_gate_reminds_then_escalates_and_those_escalated_to_may_decide() -> None:
    run = ReducerDriver(
        gated(
            approvers=["Ann@Example.com", "editor"],
            remind_after_seconds=60,
            escalate_after_seconds=120,
            escalate_to=["boss@example.com"],
        )
    )
    run.start()
    run.succeed("draft")
    state = run.run.steps["review"]
    opened = state.waiting_since
    assert opened is not None
    alarms = [c for c in run.commands if isinstance(c, StartGateAlarm)]
    assert [(a.alarm, a.at - opened) for a in alarms] == [
        ("remind", timedelta(seconds=60)),
        ("escalate", timedelta(seconds=120)),
    ]
    assert published(run) == [["ann@example.com", "editor"]]
    assert notices(run) == [("waiting", ["Ann@Example.com", "editor"])]

    alarm(run, "remind")
    assert notices(run)[-1] == ("reminder", ["Ann@Example.com", "editor"])
    assert state.remind_at is None and state.escalate_at is not None
    assert not may_decide(state.approvers, "boss@example.com", Role.OPERATOR)

    alarm(run, "escalate")
    assert notices(run)[-1] == ("escalation", ["boss@example.com"])
    assert state.approvers == ["Ann@Example.com", "editor", "boss@example.com"]
    assert may_decide(state.approvers, "boss@example.com", Role.OPERATOR)
    assert published(run)[-1] == ["ann@example.com", "boss@example.com", "editor"]
    assert state.log[-2:] == ["reminded Ann@Example.com, editor", "escalated to boss@example.com"]

    alarm(run, "escalate")  # a repeat (or late) alarm does nothing more
    assert len(notices(run)) == 3
    transition = run.decide("review", "approve")
    assert CancelGateTimer(step_id="review") in transition.commands
    assert state.remind_at is None and state.escalate_at is None
    assert published(run)[-1] == []


def test_escalating_a_gate_without_approvers_keeps_operators_deciding() -> None:
    run = ReducerDriver(gated(escalate_after_seconds=5, escalate_to=["boss@example.com"]))
    run.start()
    run.succeed("draft")
    alarm(run, "escalate")
    state = run.run.steps["review"]
    assert state.approvers == ["operator", "boss@example.com"]
    assert may_decide(state.approvers, "op@example.com", Role.OPERATOR)
    assert may_decide(state.approvers, "boss@example.com", Role.VIEWER)


def test_an_alarm_of_a_decided_gate_or_an_older_round_does_nothing() -> None:
    run = ReducerDriver(
        gated(on_reject="retry_upstream", remind_after_seconds=5, approvers=["ann@example.com"])
    )
    run.start()
    run.succeed("draft")
    old_round = run.run.steps["review"].round
    run.decide("review", "reject")
    run.feed(GateAlarm(at=run.now, step_id="review", round=old_round, alarm="remind"))
    assert [n for n, _ in notices(run)] == ["waiting"]
    run.succeed("draft")  # the gate opens again, in a new round, with its alarm re-armed
    state = run.run.steps["review"]
    assert state.round == old_round + 1 and state.status == StepStatus.WAITING
    assert [a.round for a in run.commands if isinstance(a, StartGateAlarm)] == [1, 2]


def test_alarms_survive_continue_as_new() -> None:
    run = ReducerDriver(
        gated(remind_after_seconds=60, escalate_after_seconds=90, escalate_to=["admin"])
    )
    run.start()
    run.succeed("draft")
    alarm(run, "remind")
    successor = run.continue_as_new()
    # Only the escalation is left to arm; the deadline is re-armed as before.
    assert [(c.alarm, c.round) for c in successor.of_kind("start_gate_alarm")] == [  # type: ignore[attr-defined]
        ("escalate", 1)
    ]
    assert successor.timers() == ["review"]
    # What was published carries over: no upsert of the same approvers again.
    assert published(successor) == []


def test_escalation_needs_both_its_fields() -> None:
    with pytest.raises(CompilationFailed, match="escalate_after_seconds and escalate_to"):
        compile_plan(gated(escalate_after_seconds=5), {}, ["stub"])
    with pytest.raises(CompilationFailed, match="escalate_after_seconds and escalate_to"):
        compile_plan(gated(escalate_to=["admin"]), {}, ["stub"])


def test_the_inbox_query_matches_an_email_and_every_role_up_to_the_users() -> None:
    assert approvers_clause("Ann@Example.com", Role.EDITOR) == (
        "KasalApprovers IN ('ann@example.com', 'viewer', 'operator', 'editor')"
    )
    assert approvers_clause("o'neil@example.com", Role.VIEWER) == "KasalApprovers IN ('viewer')"


def test_the_notice_names_the_workflow_the_gate_its_approvers_and_the_run() -> None:
    subject, text = notice_text(
        "escalation",
        workflow_name="brief",
        step_id="review",
        message="Publish?",
        approvers=["ann@example.com"],
        escalated_to=["admin"],
        link="http://kasal.test/runs/r1",
    )
    assert subject == "Escalated: approval needed: brief · review"
    assert "Escalated to admin" in text and "> Publish?" in text
    assert "Approvers: ann@example.com" in text and "http://kasal.test/runs/r1" in text
