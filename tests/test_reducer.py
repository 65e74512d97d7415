"""The run's rules as pure functions: each defect AgentWorkflow had, pinned without Temporal."""

from __future__ import annotations

from typing import Any

from tests.helpers import agent, task
from tests.reducer_driver import ReducerDriver
from workflows.engine.events import (
    CancelRequested,
    CancelTask,
    ContinueAsNewSuggested,
    GateExpired,
    Notify,
    RunStarted,
    UpsertStatus,
)
from workflows.engine.state import RunData
from workflows.engine.views import page_of_steps
from workflows.run_state import StatusPage
from workflows.status import RunStatus, StepStatus

S = StepStatus


def gate(step_id: str, after: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "approval", "after": after, "message": "ok?", **fields}


def plan(*steps: dict[str, Any], max_parallel: int = 16) -> dict[str, Any]:
    return {"agents": [agent()], "steps": list(steps), "max_parallel": max_parallel}


def notified(driver: ReducerDriver, event: str) -> list[str | None]:
    return [
        c.step_id for c in driver.of_kind("notify") if isinstance(c, Notify) and c.event == event
    ]


def test_a_failing_step_cancels_its_siblings_and_the_run_fails_with_the_first_cause() -> None:
    run = ReducerDriver(
        plan(
            task("a", on_failure="fail"),
            task("b", on_failure="fail"),
            task("c"),
            task("d", after=["a"]),
        )
    )
    run.start()
    assert run.started() == ["a", "b", "c"]
    transition = run.fail("a", "first cause")
    assert {c.step_id for c in transition.commands if isinstance(c, CancelTask)} == {"b", "c"}
    assert run.statuses()["d"] == S.CANCELLED  # never ran, never will
    run.fail("b", "worker saw the cancel", cancelled=True)
    run.fail("c", "a failure while closing")
    assert run.statuses() == {"a": S.FAILED, "b": S.CANCELLED, "c": S.FAILED, "d": S.CANCELLED}
    assert run.run.closing is not None and run.run.closing.message == "step 'a' failed: first cause"
    assert run.run.is_finished() and run.run.outcome() == RunStatus.FAILED
    assert notified(run, "needs_attention") == []


def test_two_retries_of_one_paused_step_act_once() -> None:
    run = ReducerDriver(plan(task("a")))
    run.start()
    run.fail("a")
    assert run.statuses()["a"] == S.PAUSED
    first, second = run.retry("a"), run.retry("a")
    assert first.refusal is None and first.step is not None
    assert second.refusal is not None and second.refusal.type == "NotPaused"
    assert run.started() == ["a", "a"]


def test_a_retried_request_with_the_same_key_gets_the_first_answer_and_acts_once() -> None:
    run = ReducerDriver(plan(task("a")))
    run.start()
    run.fail("a")
    first = run.retry("a", key="idem:retry:a:k1")
    run.succeed("a")
    again = run.retry("a", key="idem:retry:a:k1")
    assert again.refusal is None and again.step == first.step
    assert run.started() == ["a", "a"]


def test_an_idempotency_key_outlives_continue_as_new() -> None:
    run = ReducerDriver(plan(task("a"), task("b", after=["a"])))
    run.start()
    run.fail("a")
    first = run.skip("a", key="idem:skip:a:k1")
    run = run.continue_as_new()
    again = run.skip("a", output="another", key="idem:skip:a:k1")
    assert again.refusal is None and again.step == first.step
    assert run.run.steps["a"].output == "skipped"


def test_continue_as_new_keeps_a_rejection_and_starts_nothing_it_held_back() -> None:
    run = ReducerDriver(plan(task("a"), gate("g", ["a"]), task("c"), task("d", after=["g"])))
    run.start()
    run.succeed("a")
    run.decide("g", "reject")
    assert run.run.closing is not None
    successor = run.continue_as_new()
    assert successor.started() == []
    successor.succeed("c")  # the sibling that was cancelled reports late: it finished
    assert successor.statuses()["d"] == S.CANCELLED
    assert successor.run.is_finished() and successor.run.outcome() == RunStatus.REJECTED


def test_finished_steps_never_run_again_after_a_retry_upstream_round_spans_continue_as_new() -> (
    None
):
    run = ReducerDriver(
        plan(
            task("draft"),
            task("side", after=["draft"]),
            gate("review", ["draft"], on_reject="retry_upstream"),
        )
    )
    run.start()
    run.succeed("draft")
    run.succeed("side")
    run.feed(ContinueAsNewSuggested(at=run.now))
    run.decide("review", "reject", comment="shorter")
    assert run.run.ready == ["draft"]
    run = run.continue_as_new()
    assert run.started() == ["draft"]
    run.succeed("draft")
    assert run.statuses()["side"] == S.COMPLETED
    assert run.run.feedback == {"draft": "shorter"}
    assert run.run.steps["review"].round == 2
    run.decide("review", "approve")
    assert run.run.is_finished() and run.run.outcome() == RunStatus.COMPLETED
    assert "side" not in run.started()


def test_a_rejection_closes_the_other_waiting_gates() -> None:
    run = ReducerDriver(plan(gate("g1", []), gate("g2", []), task("t", after=["g1", "g2"])))
    run.start()
    assert run.statuses() == {"g1": S.WAITING, "g2": S.WAITING, "t": S.PENDING}
    run.decide("g1", "reject")
    assert run.statuses() == {"g1": S.REJECTED, "g2": S.CANCELLED, "t": S.CANCELLED}
    assert run.run.is_finished() and run.run.outcome() == RunStatus.REJECTED
    late = run.decide("g2", "approve")
    assert late.refusal is not None and late.refusal.type == "RunClosing"


def test_a_gate_timer_of_an_older_round_is_ignored() -> None:
    run = ReducerDriver(plan(task("a"), gate("g", ["a"], on_reject="retry_upstream")))
    run.start()
    run.succeed("a")
    old_round = run.run.steps["g"].round
    run.decide("g", "reject")
    run.succeed("a")
    assert run.run.steps["g"].round == old_round + 1
    run.feed(GateExpired(at=run.now, step_id="g", round=old_round))
    assert run.statuses()["g"] == S.WAITING


def test_a_gate_decides_itself_at_its_deadline() -> None:
    run = ReducerDriver(plan(gate("g", [], on_timeout="approve"), task("t", after=["g"])))
    run.start()
    run.expire("g")
    assert run.statuses() == {"g": S.APPROVED, "t": S.RUNNING}
    assert run.run.steps["g"].decisions[0].actor == "timeout"


def test_no_more_tasks_run_at_once_than_max_parallel() -> None:
    run = ReducerDriver(plan(*(task(f"t{i}") for i in range(5)), max_parallel=2))
    run.start()
    assert run.started() == ["t0", "t1"]
    run.succeed("t1")
    assert run.started() == ["t0", "t1", "t2"]
    assert run.run.running() == 2


def test_cancel_ends_waiting_and_paused_steps_cancelled_once_running_ones_stop() -> None:
    run = ReducerDriver(plan(task("a"), task("b"), gate("g", [])))
    run.start()
    run.fail("a")
    run.feed(CancelRequested(at=run.now))
    assert run.statuses() == {"a": S.CANCELLED, "b": S.RUNNING, "g": S.CANCELLED}
    assert not run.run.is_finished()
    run.fail("b", cancelled=True)
    assert run.run.is_finished() and run.run.outcome() == RunStatus.CANCELLED


def test_draining_for_continue_as_new_starts_nothing_and_resuming_starts_it() -> None:
    run = ReducerDriver(plan(task("a"), task("b", after=["a"])))
    run.start()
    run.feed(ContinueAsNewSuggested(at=run.now))
    run.succeed("a")
    assert run.started() == ["a"] and run.run.ready == ["b"]
    run = run.continue_as_new()
    assert run.started() == ["b"]


def test_the_status_is_published_only_when_it_changes() -> None:
    run = ReducerDriver(plan(task("a"), gate("g", ["a"])))
    run.start()
    run.succeed("a")
    run.decide("g", "approve")
    published = [c.status for c in run.commands if isinstance(c, UpsertStatus)]
    assert published == [
        RunStatus.RUNNING,
        RunStatus.WAITING_FOR_APPROVAL,
        RunStatus.COMPLETED,
    ]
    assert notified(run, "run_closed") == [None]


def test_a_run_resumed_from_json_rearms_its_gate_with_the_same_deadline() -> None:
    run = ReducerDriver(plan(gate("g", [], timeout_seconds=60)))
    run.start()
    deadline = run.run.steps["g"].deadline
    carried = RunData.model_validate_json(run.run.model_dump_json())
    successor = ReducerDriver(plan(gate("g", [], timeout_seconds=60)), run=carried)
    successor.feed(RunStarted(at=run.now))
    [timer] = successor.of_kind("start_gate_timer")
    assert getattr(timer, "deadline", None) == deadline
    assert notified(successor, "waiting_for_approval") == []


def test_a_queued_task_waits_again_when_a_retry_upstream_round_reruns_its_dependency() -> None:
    run = ReducerDriver(
        plan(
            task("draft"),
            gate("review", ["draft"], on_reject="retry_upstream"),
            task("b1"),
            task("b2"),
            task("side", after=["draft"]),
            max_parallel=2,
        )
    )
    run.start()
    run.succeed("draft")
    assert run.started() == ["draft", "b1", "b2"] and run.run.ready == ["side"]
    run.decide("review", "reject")  # draft is queued again, ahead of side
    run.succeed("b1")
    run.succeed("b2")  # a slot is free, but side's dependency is running again
    assert run.started() == ["draft", "b1", "b2", "draft"]
    run.succeed("draft")
    assert run.started()[-1] == "side"


def test_the_status_of_10_000_steps_comes_a_page_at_a_time() -> None:
    run = ReducerDriver(plan(*(task(f"t{i}") for i in range(10_000)), max_parallel=100))
    run.start()
    seen: list[str] = []
    page = StatusPage(limit=3_000)
    while True:
        state = page_of_steps(run.run, page)
        assert len(state.steps) <= 3_000 and state.status == RunStatus.RUNNING
        seen += [s.id for s in state.steps]
        if state.next_page_token is None:
            break
        page = StatusPage(page_token=state.next_page_token, limit=3_000)
    assert seen == [f"t{i}" for i in range(10_000)]
