"""One worker process holds as many task steps in flight as it has activity slots, more
than the SDK's default of 100, even with every slot busy at once.

The full figure (1,000 steps in one process) is `make bench`'s `in_flight`; this test keeps
the worker honest at a size the suite can afford.
"""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client

from activities.model_registry import StaticModelRegistry
from db.blobs import BlobStore
from tests.helpers import agent, start_run, task
from tests.stub_llm import Reply, StubLLM
from worker.main import build_worker
from workflows.status import StepStatus

STEPS = 150  # above the SDK's default max_concurrent_activities (100)


async def test_one_worker_holds_more_steps_in_flight_than_the_sdk_default(
    client: Client, stub_models: StaticModelRegistry, blob_store: BlobStore, stub_llm: StubLLM
) -> None:
    stub_llm.script("STEP-", Reply("done", held=True))  # open until released
    worker = build_worker(
        client,
        f"kasal-scale-{uuid.uuid4()}",
        stub_models,
        blob_store,
        max_concurrent_activities=STEPS,  # every slot busy at once
    )
    definition = {
        "agents": [agent()],
        "steps": [task(f"s{i}") for i in range(STEPS)],
        "max_parallel": STEPS,
    }
    async with worker:
        handle = await start_run(client, worker, definition)
        calls = await asyncio.to_thread(stub_llm.wait_for_calls, STEPS, "STEP-", 120)
        # Every call is still open at the stub: all the steps are in flight together.
        assert len(calls) == STEPS
        assert all(call.finished_mono is None for call in calls)
        stub_llm.release()
        result = await handle.result()
    assert [step.status for step in result.steps] == [StepStatus.COMPLETED] * STEPS
    assert stub_llm.call_count() == STEPS
