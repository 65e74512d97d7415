"""Long runs continue as new when Temporal suggests it, and lose nothing on the way."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from tests.helpers import agent, assert_replays, start_run, task
from tests.stub_llm import StubLLM

STEPS = 2000


async def test_a_plan_of_2000_quick_steps_continues_as_new_and_completes(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    definition = {
        "agents": [agent()],
        "steps": [task(f"s{i}") for i in range(STEPS)],
        "max_parallel": 64,
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()

    assert len(result.outputs) == STEPS
    assert stub_llm.call_count() == STEPS  # each step exactly once across executions
    assert all(step.attempt == 1 for step in result.steps)
    executions = [
        execution async for execution in client.list_workflows(f"WorkflowId = '{handle.id}'")
    ]
    continued = [e for e in executions if e.status == WorkflowExecutionStatus.CONTINUED_AS_NEW]
    assert continued, "Temporal suggested continue-as-new at least once"
    await assert_replays(
        client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    )
