"""How long a run takes to close once it must: a step that fails the run, or a cancel,
with steps in flight that must stop first.

Each sibling step's LLM call is held open at the stub, so the run can close only once
the worker has heard of the cancel (through a heartbeat) and the cancellation completed.
The tests check the outcome of closing; this measures its time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from temporalio.client import WorkflowFailureError

from bench.harness import AGENT, Bench, bench_stack, new_id
from tests.stub_llm import Reply
from worker.main import build_worker
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input

RUNS = 3
SIBLINGS = 10


def _plan(failing: bool) -> Any:
    steps: list[dict[str, Any]] = [
        {
            "id": f"s{i}",
            "type": "task",
            "agent": AGENT["id"],
            "description": f"STEP-S{i:02d}",
            "expected_output": "x",
        }
        for i in range(SIBLINGS)
    ]
    if failing:
        steps.append(
            {
                "id": "boom",
                "type": "task",
                "agent": AGENT["id"],
                "description": "STEP-BOOM",
                "expected_output": "x",
                "on_failure": "fail",
                "retry": {"max_attempts": 1},
            }
        )
    return compile_plan({"agents": [AGENT], "steps": steps}, {}, {"stub"})


async def one_close(bench: Bench, task_queue: str, failing: bool) -> float:
    """Seconds from the cause (the failing call's answer, or the cancel) to the close."""
    bench.stub.reset()
    for i in range(SIBLINGS):
        bench.stub.script(f"STEP-S{i:02d}", Reply(hang=True))
    bench.stub.script("STEP-BOOM", Reply.error(401, delay=1.0))
    handle = await bench.env.client.start_workflow(
        AgentWorkflowV2.run,
        AgentWorkflowV2Input(plan=_plan(failing)),
        id=new_id("closing"),
        task_queue=task_queue,
    )
    await asyncio.to_thread(bench.stub.wait_for_calls, SIBLINGS, None, 60)
    cancelled_at = time.monotonic()
    if not failing:
        await handle.cancel()
    try:
        await handle.result()
    except WorkflowFailureError:
        pass
    closed_at = time.monotonic()
    if failing:
        [boom] = bench.stub.calls("STEP-BOOM")
        assert boom.finished_mono is not None  # the stub runs in this process: same clock
        return closed_at - boom.finished_mono
    return closed_at - cancelled_at


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        task_queue = new_id("closing")
        worker = build_worker(bench.env.client, task_queue, bench.models, bench.blobs, 50)
        async with worker:
            failed = [await one_close(bench, task_queue, failing=True) for _ in range(RUNS)]
            cancelled = [await one_close(bench, task_queue, failing=False) for _ in range(RUNS)]
        bench.stub.release()
    return {
        "siblings_in_flight": SIBLINGS,
        "fail_to_closed_seconds_median": round(statistics.median(failed), 2),
        "cancel_to_closed_seconds_median": round(statistics.median(cancelled), 2),
    }
