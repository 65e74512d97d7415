"""A request for a result the run has but its workflow has not applied yet.

Temporal hands a workflow the updates of a workflow task before the activity results
that came in the same task. A query answered from the history (on a worker without the
run cached) or the API's fold of it already shows those results, so an operator can
retry a pause the workflow, judging the retry, still has running. The fuzz found it:
a retry refused NotPaused just after a worker was killed (CI, tests/fuzz)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.model_registry import StaticModelRegistry
from db.blobs import BlobStore
from tests.helpers import agent, marker, start_run, task
from tests.stub_llm import Reply, StubLLM
from worker.main import build_worker
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.events import Decided, Refusal, RetryRequested
from workflows.engine.gates import result_in_flight
from workflows.engine.state import RunData
from workflows.registry import WORKFLOWS, workflow_runner
from workflows.run_state import Decision, RecordedDecision, StepState
from workflows.status import StepStatus
from workflows.step_actions import StepAction

E = EventType
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def workflows_only(client: Client, task_queue: str) -> Worker:
    """A worker for the workflow alone, caching nothing: each task replays the history."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        max_cached_workflows=0,
    )


async def history_has(handle: WorkflowHandle[AgentWorkflowV2, object], kind: int) -> bool:
    return any(e.event_type == kind for e in (await handle.fetch_history()).events)


async def eventually_in_history(handle: WorkflowHandle[AgentWorkflowV2, object], kind: int) -> None:
    for _ in range(200):
        if await history_has(handle, kind):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {EventType.Name(kind)} in the history")


async def test_a_retry_sent_for_a_pause_not_yet_applied_is_judged_after_it(
    client: Client, stub_models: StaticModelRegistry, blob_store: BlobStore, stub_llm: StubLLM
) -> None:
    """The step's 401 reaches the history while no workflow worker polls; the retry the
    operator sends for that pause then arrives in the same workflow task. It is applied
    once the pause is, and the step runs again. A retry naming an execution the operator
    never saw paused is refused, after at most a second."""
    stub_llm.script(marker("flaky"), Reply(status=401, held=True), Reply(held=True))
    task_queue = f"kasal-test-{uuid.uuid4()}"
    # Kasal's worker, built on a queue of its own only to lend its activities.
    kasal_worker = build_worker(client, f"{task_queue}-unpolled", stub_models, blob_store, 4)
    activities_only = Worker(**{**kasal_worker.config(), "task_queue": task_queue, "workflows": []})
    definition = {"agents": [agent()], "steps": [task("flaky")]}
    async with activities_only:
        async with workflows_only(client, task_queue):
            handle = await start_run(client, activities_only, definition)
            await asyncio.to_thread(stub_llm.wait_for_calls, 1, marker("flaky"), 30)
        stub_llm.release()  # the 401, with no workflow worker to apply it
        await eventually_in_history(handle, E.EVENT_TYPE_ACTIVITY_TASK_FAILED)
        retry = asyncio.create_task(
            handle.execute_update(
                AgentWorkflowV2.retry_step, StepAction(step_id="flaky", execution=1)
            )
        )
        await asyncio.sleep(2)  # the update reaches the server before a worker polls
        async with workflows_only(client, task_queue):
            retried = await asyncio.wait_for(retry, 30)
            assert (retried.status, retried.execution) == (StepStatus.RUNNING, 2)
            await asyncio.to_thread(stub_llm.wait_for_calls, 2, marker("flaky"), 30)
            with pytest.raises(WorkflowUpdateFailedError) as never_seen:
                await handle.execute_update(
                    AgentWorkflowV2.retry_step, StepAction(step_id="flaky", execution=2)
                )
            assert never_seen.value.cause.type == "NotPaused"  # type: ignore[attr-defined]
            stub_llm.release()
            result = await handle.result()

    assert result.outputs_by_step() == {"flaky": "ok"}
    assert stub_llm.call_count(marker("flaky")) == 2
    await assert_result_and_request_shared_a_workflow_task(
        handle, E.EVENT_TYPE_ACTIVITY_TASK_FAILED
    )


async def test_a_decision_sent_for_a_round_not_yet_opened_is_judged_after_it(
    client: Client, stub_models: StaticModelRegistry, blob_store: BlobStore, stub_llm: StubLLM
) -> None:
    """The gate's upstream step finishes while no workflow worker polls; the approval an
    operator sends for the round that result opens (round 1, which the history already
    shows) arrives in the same workflow task. It waits for the result to open the round,
    then decides it."""
    stub_llm.script(marker("draft"), Reply(held=True))
    task_queue = f"kasal-test-{uuid.uuid4()}"
    kasal_worker = build_worker(client, f"{task_queue}-unpolled", stub_models, blob_store, 4)
    activities_only = Worker(**{**kasal_worker.config(), "task_queue": task_queue, "workflows": []})
    review = {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"}
    definition = {"agents": [agent()], "steps": [task("draft"), review]}
    async with activities_only:
        async with workflows_only(client, task_queue):
            handle = await start_run(client, activities_only, definition)
            await asyncio.to_thread(stub_llm.wait_for_calls, 1, marker("draft"), 30)
        stub_llm.release()  # the step's result, with no workflow worker to apply it
        await eventually_in_history(handle, E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        approval = asyncio.create_task(
            handle.execute_update(
                AgentWorkflowV2.decide,
                Decision(step_id="review", decision="approve", actor="ops", round=1),
            )
        )
        await asyncio.sleep(2)  # the update reaches the server before a worker polls
        async with workflows_only(client, task_queue):
            decided = await asyncio.wait_for(approval, 30)
            assert (decided.status, decided.round) == (StepStatus.APPROVED, 1)
            result = await handle.result()

    assert result.outputs_by_step()["draft"] == "ok"
    assert stub_llm.call_count(marker("draft")) == 1
    await assert_result_and_request_shared_a_workflow_task(
        handle, E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    )


async def assert_result_and_request_shared_a_workflow_task(
    handle: WorkflowHandle[AgentWorkflowV2, object], result_kind: int
) -> None:
    """The tests' premise: no workflow task completed between the activity's result and
    the request's acceptance, so the workflow was handed both at once."""
    kinds = [e.event_type for e in (await handle.fetch_history()).events]
    result = kinds.index(result_kind)
    accepted = kinds.index(E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    between = kinds[result:accepted]
    assert between.count(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) == 1, [
        EventType.Name(k) for k in between
    ]


def run_with(state: StepState) -> RunData:
    return RunData(steps={state.id: state})


def retry(seen: int | None) -> RetryRequested:
    return RetryRequested(at=NOW, step_id="a", seen_execution=seen)


def decision(round: int | None) -> Decided:
    recorded = RecordedDecision(step_id="gate", decision="approve", round=round, decided_at=NOW)
    return Decided(at=NOW, decision=recorded)


NOT_PAUSED = Refusal(type="NotPaused", message="")
NOT_WAITING = Refusal(type="NotWaiting", message="")


@pytest.mark.parametrize(
    ("state", "seen", "in_flight"),
    [
        (StepState(id="a", type="task", status=StepStatus.RUNNING, execution=2), 2, True),
        # Another operator's retry already started the next execution.
        (StepState(id="a", type="task", status=StepStatus.RUNNING, execution=3), 2, False),
        # Said nothing of what it saw: refused at once, as before.
        (StepState(id="a", type="task", status=StepStatus.RUNNING, execution=2), None, False),
        (StepState(id="a", type="task", status=StepStatus.COMPLETED, execution=2), 2, False),
    ],
)
def test_a_retry_waits_only_for_the_execution_it_saw(
    state: StepState, seen: int | None, in_flight: bool
) -> None:
    assert result_in_flight(run_with(state), retry(seen), NOT_PAUSED) is in_flight


@pytest.mark.parametrize(
    ("status", "round", "asked", "in_flight"),
    [
        (StepStatus.PENDING, 0, 1, True),  # its upstream's result opens round 1
        (StepStatus.PENDING, 1, 1, False),  # round 1 is over; the gate waits for round 2
        (StepStatus.APPROVED, 1, 2, False),
        (StepStatus.PENDING, 0, None, False),
    ],
)
def test_a_decision_waits_only_for_the_round_it_saw_open(
    status: StepStatus, round: int, asked: int | None, in_flight: bool
) -> None:
    gate = StepState(id="gate", type="approval", status=status, round=round)
    assert result_in_flight(run_with(gate), decision(asked), NOT_WAITING) is in_flight
