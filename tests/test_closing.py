"""How a run closes, on the real server: a failure, a rejection or a cancel ends it whole.

Each test here is a defect AgentWorkflow had, kept as a regression test for v2.
"""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import Worker

from api.services.run_fold import fold_history
from tests.helpers import (
    agent,
    assert_replays,
    fast_retry,
    marker,
    start_run,
    status,
    step_statuses,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.run_state import Decision, RunState
from workflows.status import RunStatus, StepStatus
from workflows.step_actions import StepAction

S = StepStatus


def gate(step_id: str, after: list[str]) -> dict[str, object]:
    return {"id": step_id, "type": "approval", "after": after, "message": "ok?"}


async def test_a_step_that_fails_the_run_cancels_its_running_sibling_and_the_run_fails(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(500, "first cause", delay=0.5))
    stub_llm.script(marker("b"), Reply(held=True))
    definition = {
        "agents": [agent()],
        "steps": [
            task("a", on_failure="fail", retry=fast_retry(1)),
            task("b", on_failure="fail"),
            task("c", after=["a"]),
        ],
    }
    handle = await start_run(client, worker, definition)
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), timeout=60)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RunFailed"
    assert "step 'a' failed" in cause.message and "first cause" in cause.message
    closed = RunState.model_validate(cause.details[0])
    assert step_statuses(closed) == {"a": S.FAILED, "b": S.CANCELLED, "c": S.CANCELLED}
    assert closed.status == RunStatus.FAILED
    assert stub_llm.call_count(marker("b")) == 1  # cancelled, not retried, not paused
    await assert_replays(handle)


async def test_two_concurrent_retries_of_one_paused_step_act_once(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(500), Reply("fixed", delay=0.5))
    handle = await start_run(
        client, worker, {"agents": [agent()], "steps": [task("a", retry=fast_retry(1))]}
    )
    await wait_for_status(handle, lambda s: step_statuses(s)["a"] == S.PAUSED)
    outcomes = await asyncio.gather(
        *(
            handle.execute_update(AgentWorkflowV2.retry_step, StepAction(step_id="a", actor=who))
            for who in ("tab one", "tab two")
        ),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0].cause, ApplicationError)
    assert refused[0].cause.type == "NotPaused"
    result = await handle.result()
    assert result.outputs_by_step() == {"a": "fixed"}
    assert stub_llm.call_count(marker("a")) == 2
    await assert_replays(handle)


async def test_a_rejection_closes_the_other_waiting_gate_and_the_run_at_once(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    definition = {
        "agents": [agent()],
        "steps": [gate("legal", []), gate("brand", []), task("publish", after=["legal", "brand"])],
    }
    handle = await start_run(client, worker, definition)
    await wait_for_status(handle, lambda s: s.status == RunStatus.WAITING_FOR_APPROVAL)
    await handle.execute_update(
        AgentWorkflowV2.decide, Decision(step_id="legal", decision="reject", actor="ann")
    )
    result = await asyncio.wait_for(handle.result(), timeout=15)
    assert result.outcome == "rejected"
    assert step_statuses(await status(handle)) == {
        "legal": S.REJECTED,
        "brand": S.CANCELLED,
        "publish": S.CANCELLED,
    }
    assert stub_llm.call_count(marker("publish")) == 0
    await assert_replays(handle)


async def test_cancel_waits_for_the_running_step_and_closes_gates_and_paused_steps(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("slow"), Reply(held=True))
    stub_llm.script(marker("broken"), Reply.error(500))
    definition = {
        "agents": [agent()],
        "steps": [task("slow"), task("broken", retry=fast_retry(1)), gate("review", [])],
    }
    handle = await start_run(client, worker, definition)
    await wait_for_status(
        handle,
        lambda s: step_statuses(s)["broken"] == S.PAUSED and step_statuses(s)["slow"] == S.RUNNING,
    )
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), timeout=60)
    assert isinstance(failure.value.cause, CancelledError)
    folded = await fold_history(
        [e async for e in handle.fetch_history_events()], client.data_converter
    )
    assert folded is not None
    assert {k: s.status for k, s in folded.steps.items()} == {
        "slow": S.CANCELLED,
        "broken": S.CANCELLED,
        "review": S.CANCELLED,
    }
    await assert_replays(handle)


async def test_the_history_fold_agrees_with_the_query_at_every_pause(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("draft"), Reply.error(500), Reply("draft"))
    definition = {
        "agents": [agent()],
        "steps": [
            task("draft", retry=fast_retry(1)),
            gate("review", ["draft"]),
            task("publish", after=["review"]),
        ],
    }
    handle = await start_run(client, worker, definition)

    async def folded_statuses() -> dict[str, StepStatus]:
        folded = await fold_history(
            [e async for e in handle.fetch_history_events()], client.data_converter
        )
        assert folded is not None
        return {k: s.status for k, s in folded.steps.items()}

    async def agree(predicate_status: RunStatus) -> None:
        queried = await wait_for_status(handle, lambda s: s.status == predicate_status)
        assert await folded_statuses() == step_statuses(queried)

    await agree(RunStatus.NEEDS_ATTENTION)
    await handle.execute_update(AgentWorkflowV2.retry_step, StepAction(step_id="draft"))
    await agree(RunStatus.WAITING_FOR_APPROVAL)
    await handle.signal(AgentWorkflowV2.decision, Decision(step_id="review", decision="approve"))
    result = await handle.result()
    assert await folded_statuses() == {s.id: s.status for s in result.steps}
