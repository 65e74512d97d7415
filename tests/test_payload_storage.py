"""The payload budget: every payload over 16 KB goes to the blob store, whatever carries it,
and the history keeps a small reference (db/payload_store.py)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Replayer, Worker

from db.base import utcnow
from db.blobs import BlobStore
from db.migrate import upgrade_to_head
from db.payload_store import (
    PAYLOAD_BUDGET_BYTES,
    PayloadStore,
    inline_history,
    payload_data_converter,
)
from db.retention import delete_blobs_of_runs_gone
from db.session import create_engine, session_factory
from tests.api_stack import ApiStack
from tests.helpers import (
    RunHandle,
    agent,
    assert_replays,
    marker,
    start_run,
    status,
    step_statuses,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.registry import WORKFLOWS, workflow_runner
from workflows.run_state import RunState
from workflows.status import StepStatus
from workflows.step_actions import StepAction

KB = 1024
REFERENCE_TYPE = base64.b64encode(b"temporal.api.sdk.v1.ExternalStorageReference").decode()


def payloads_in(history: WorkflowHistory) -> list[dict[str, Any]]:
    """Every payload in the history, in its JSON form (metadata and data base64)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]:
                found.append(node)
                return
            for value in node.values():
                walk(value)

    walk(json.loads(history.to_json()))
    return found


def size(payload: dict[str, Any]) -> int:
    return len(base64.b64decode(payload.get("data", "")))


def is_reference(payload: dict[str, Any]) -> bool:
    return bool(payload["metadata"].get("messageType") == REFERENCE_TYPE)


def replayer(converter: Any) -> Replayer:
    return Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=converter
    )


async def many_step_run(client: Client, worker: Worker, stub_llm: StubLLM) -> RunHandle:
    """A finished run of 30 steps with 900-character outputs (each inline, under the
    1000-character output limit): its status and its result are over 16 KB."""
    stub_llm.default_text = "w" * 900
    steps = [task(f"s{i}") for i in range(30)]
    handle = await start_run(client, worker, {"agents": [agent()], "steps": steps})
    await handle.result()
    return handle


async def test_a_status_over_16_kb_is_queried_through_the_store_and_twice_writes_nothing(
    client: Client, worker: Worker, stub_llm: StubLLM, payload_store: PayloadStore
) -> None:
    handle = await many_step_run(client, worker, stub_llm)

    state = await status(handle)
    assert len(state.model_dump_json()) > PAYLOAD_BUDGET_BYTES
    assert [s.output for s in state.steps] == ["w" * 900] * 30
    blobs = await payload_store.blobs.payload_ids(handle.id)
    assert blobs  # the result and the status at least

    assert (await status(handle)) == state
    assert await payload_store.blobs.payload_ids(handle.id) == blobs
    # Not only the in-process cache: the store itself keeps one row per content.
    payload_store.cache.clear()
    assert (await status(handle)) == state
    assert await payload_store.blobs.payload_ids(handle.id) == blobs

    # The result (over 16 KB too) sits in the history as a small reference.
    payloads = payloads_in(await handle.fetch_history())
    assert max(size(p) for p in payloads) < PAYLOAD_BUDGET_BYTES
    assert any(is_reference(p) for p in payloads)
    await assert_replays(handle)


async def test_a_3_mb_workflow_input_starts_and_completes(
    client: Client, worker: Worker, stub_llm: StubLLM, payload_store: PayloadStore
) -> None:
    # Over Temporal's 2 MB payload limit: refused by the server without the store. Each
    # step's activity input (its 100 KB description) is over the budget too.
    steps = [task(f"s{i}", description=f"STEP-S{i} " + "d" * 100 * KB) for i in range(30)]
    definition = {"agents": [agent()], "steps": steps}
    plain = Client(**{**client.config(), "data_converter": pydantic_data_converter})
    with pytest.raises(RPCError, match=r"(?i)size"):
        await start_run(plain, worker, definition)
    handle = await start_run(client, worker, definition)
    result = await handle.result()
    assert result.outcome == "completed"
    assert len(stub_llm.calls()) == 30

    history = await handle.fetch_history()
    payloads = payloads_in(history)
    assert max(size(p) for p in payloads) < PAYLOAD_BUDGET_BYTES
    assert len(history.to_json()) < 1024 * KB
    # The input, and each step's activity input.
    assert sum(is_reference(p) for p in payloads) >= 31

    # A recovery on a fresh worker: nothing cached, every payload read from the store.
    payload_store.cache.clear()
    fresh = payload_data_converter(PayloadStore(payload_store.blobs))
    await replayer(fresh).replay_workflow(history)

    # The history recorded for the replay suite holds every payload inline, and replays
    # with no store at all.
    inlined = await inline_history(history, payload_store)
    assert not any(is_reference(p) for p in payloads_in(inlined))
    assert max(size(p) for p in payloads_in(inlined)) > 2 * 1024 * KB
    await replayer(pydantic_data_converter).replay_workflow(inlined)


async def test_a_put_of_a_stored_payload_is_a_no_op_even_when_racing(
    database_url: str, client: Client
) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    # Three processes, each with its engine, its write lock and its cache.
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        blobs = [BlobStore(session_factory(engine)) for engine in engines]
        payload = Payload(metadata={"encoding": b"json/plain"}, data=b'"' + b"x" * 20 * KB + b'"')
        claims = await asyncio.gather(
            *(PayloadStore(b).store(stored_for("run-race"), [payload]) for b in blobs * 3)
        )
        assert len({c[0].claim_data["id"] for c in claims}) == 1
        assert len(await blobs[0].payload_ids("run-race")) == 1

        # The same bytes in another run are another blob: retention deletes run by run.
        [claim] = await PayloadStore(blobs[1]).store(stored_for("run-other"), [payload])
        assert claim.claim_data["id"] != claims[0][0].claim_data["id"]
        [back] = await PayloadStore(blobs[2]).retrieve(StorageDriverRetrieveContext(), [claim])
        assert back == payload

        # Temporal has neither run; still, a day's grace first: an input is stored before
        # its workflow starts.
        assert (await delete_blobs_of_runs_gone(blobs[0], client)).runs_gone == []
        later = utcnow() + timedelta(days=2)
        sweep = await delete_blobs_of_runs_gone(blobs[0], client, now=later)
        assert sorted(sweep.runs_gone) == ["run-other", "run-race"]
        assert sweep.blobs_deleted == 2
        assert await blobs[0].payload_ids("run-race") == set()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_retention_keeps_the_blobs_of_a_run_temporal_still_has(
    client: Client, worker: Worker, stub_llm: StubLLM, payload_store: PayloadStore
) -> None:
    handle = await many_step_run(client, worker, stub_llm)
    blobs = await payload_store.blobs.payload_ids(handle.id)
    assert blobs
    later = utcnow() + timedelta(days=2)
    sweep = await delete_blobs_of_runs_gone(payload_store.blobs, client, later)
    assert handle.id not in sweep.runs_gone
    assert await payload_store.blobs.payload_ids(handle.id) == blobs


def stored_for(run_id: str) -> StorageDriverStoreContext:
    return StorageDriverStoreContext(
        target=StorageDriverWorkflowInfo(namespace="default", id=run_id)
    )


async def test_through_the_api_a_2_mb_plan_runs_and_its_big_status_reads_whole(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    # The API's client stores the input, the worker reads it; the worker stores the
    # status, the API's client reads it: both through the one database.
    stub_llm.default_text = "w" * 900
    steps = [task(f"s{i}", description=f"STEP-S{i} " + "d" * 110 * KB) for i in range(20)]
    run_id = (await start(api, await create_workflow(api, {"agents": [agent()], "steps": steps})))[
        "run_id"
    ]
    run = await wait_for_run(api, run_id, "completed", timeout=120)

    assert [s["output"] for s in run["steps"]] == ["w" * 900] * 20
    history = await api.env.client.get_workflow_handle(run_id).fetch_history()
    assert max(size(p) for p in payloads_in(history)) < PAYLOAD_BUDGET_BYTES
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_an_update_and_a_failure_over_16_kb_travel_through_the_store(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.default_text = "w" * 900
    stub_llm.script(marker("a"), Reply.error(400, "bad request"))
    stub_llm.script(marker("z"), Reply.error(400, "bad request"))
    steps = [
        task("a"),
        *(task(f"s{i}") for i in range(30)),
        task("z", after=[f"s{i}" for i in range(30)], on_failure="fail"),
    ]
    handle = await start_run(client, worker, {"agents": [agent()], "steps": steps})
    await wait_for_status(handle, lambda s: step_statuses(s)["a"] == StepStatus.PAUSED)

    # The update's argument and its result, each over 16 KB.
    big = "o" * 20 * KB
    skipped = await handle.execute_update(
        AgentWorkflowV2.skip_step, StepAction(step_id="a", actor="ops", output=big)
    )
    assert skipped.status == StepStatus.SKIPPED

    # The run fails on z; the failure's details (the run's state) are over 16 KB.
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    state = RunState.model_validate(cause.details[0])
    assert len(state.model_dump_json()) > PAYLOAD_BUDGET_BYTES
    assert step_statuses(state)["z"] == StepStatus.FAILED

    payloads = payloads_in(await handle.fetch_history())
    assert max(size(p) for p in payloads) < PAYLOAD_BUDGET_BYTES
    await assert_replays(handle)
