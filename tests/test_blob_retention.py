"""Blob retention: the scheduled sweep deletes every blob of a run Temporal has dropped
(outputs, transcripts, payloads) and none of a run Temporal still has, open or closed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.model_registry import StaticModelRegistry
from db.base import utcnow
from db.blobs import BlobStore
from db.migrate import upgrade_to_head
from db.models import Blob, CallJournalRow, LiveTokenRow
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings
from tests.helpers import assert_replays, eventually
from worker.main import build_worker
from worker.schedules import BLOB_RETENTION_SCHEDULE_ID, ensure_blob_retention_schedule
from workflows.retention_workflow import BLOB_RETENTION_WORKFLOW, BlobRetentionWorkflow

# Past the sweep's day of grace.
OLD = timedelta(days=2)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[Any]]:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def blobs(sessions: async_sessionmaker[Any]) -> BlobStore:
    return BlobStore(sessions)


async def store_blobs(
    sessions: async_sessionmaker[Any], run_id: str, age: timedelta
) -> dict[str, uuid.UUID]:
    """An output, a transcript and a payload of the run, stored ``age`` ago."""
    created_at = utcnow() - age
    ids = {kind: uuid.uuid4() for kind in ("output", "transcript", "payload")}
    async with UnitOfWork(sessions) as uow:
        for kind in ("output", "transcript"):
            uow.blobs.add(
                Blob(
                    id=ids[kind],
                    kind=kind,
                    run_id=run_id,
                    step_id="a",
                    size=4,
                    content=f"{kind}!",
                    created_at=created_at,
                )
            )
        await uow.blobs.add_payload_if_absent(
            blob_id=ids["payload"], run_id=run_id, data=b"payload", created_at=created_at
        )
        # And a call in the journal beside the blobs.
        uow.session.add(
            CallJournalRow(
                run_id=run_id,
                step_id="a",
                execution=1,
                kind="llm",
                call_index=0,
                request_hash="h",
                status="done",
                attempt=1,
                record={},
                created_at=created_at,
                updated_at=created_at,
            )
        )
        # And the live text of a call whose worker died mid-stream.
        uow.session.add(
            LiveTokenRow(
                run_id=run_id,
                step_id="a",
                execution=1,
                call_index=1,
                attempt=1,
                text="Thought: half a",
                updated_at=created_at,
            )
        )
    return ids


async def journaled_runs(sessions: async_sessionmaker[Any]) -> set[str]:
    async with UnitOfWork(sessions) as uow:
        return set((await uow.session.execute(select(CallJournalRow.run_id))).scalars())


async def live_runs(sessions: async_sessionmaker[Any]) -> set[str]:
    async with UnitOfWork(sessions) as uow:
        return set((await uow.session.execute(select(LiveTokenRow.run_id))).scalars())


async def still_stored(blobs: BlobStore, ids: dict[str, uuid.UUID]) -> set[str]:
    """Which of the kinds in ``ids`` are still in the store."""
    found = await blobs.get_many([str(ids["output"]), str(ids["transcript"])])
    payloads = await blobs.get_payloads([ids["payload"]])
    return {kind for kind, blob_id in ids.items() if str(blob_id) in found or blob_id in payloads}


async def test_the_sweep_deletes_every_blob_of_a_dropped_run_and_none_temporal_still_has(
    client: Client,
    sessions: async_sessionmaker[Any],
    blobs: BlobStore,
    stub_models: StaticModelRegistry,
) -> None:
    idle_queue = f"nobody-polls-{uuid.uuid4()}"
    # Open: started on a queue no worker polls. Closed: terminated, not yet dropped.
    open_run = await client.start_workflow(
        BlobRetentionWorkflow.run, id=f"run-open-{uuid.uuid4()}", task_queue=idle_queue
    )
    closed_run = await client.start_workflow(
        BlobRetentionWorkflow.run, id=f"run-closed-{uuid.uuid4()}", task_queue=idle_queue
    )
    await closed_run.terminate()
    gone, gone_lately = f"run-gone-{uuid.uuid4()}", f"run-gone-{uuid.uuid4()}"
    try:
        dropped = await store_blobs(sessions, gone, OLD)
        kept = {
            "open": await store_blobs(sessions, open_run.id, OLD),
            "closed": await store_blobs(sessions, closed_run.id, OLD),
            # Temporal has never heard of it, but within the day's grace: an input is
            # stored before its workflow starts.
            "recent": await store_blobs(sessions, gone_lately, timedelta(0)),
            # Stored for no workflow: never deleted.
            "no run": await store_blobs(sessions, "", OLD),
        }

        worker = build_worker(client, f"kasal-test-{uuid.uuid4()}", stub_models, blobs, 10)
        async with worker:
            sweep = await client.start_workflow(
                BlobRetentionWorkflow.run,
                id=f"blob-retention-{uuid.uuid4()}",
                task_queue=worker.task_queue,
            )
            result = await sweep.result()

        assert (result.runs_gone, result.blobs_deleted) == (1, 3)
        assert await still_stored(blobs, dropped) == set()
        journaled = await journaled_runs(sessions)
        assert gone not in journaled
        assert {open_run.id, closed_run.id, gone_lately, ""} <= journaled
        live = await live_runs(sessions)
        assert gone not in live
        assert {open_run.id, closed_run.id, gone_lately, ""} <= live
        for ids in kept.values():
            assert await still_stored(blobs, ids) == {"output", "transcript", "payload"}
        await assert_replays(sweep)
    finally:
        await open_run.terminate()


@pytest.fixture
async def no_schedule(client: Client) -> AsyncIterator[None]:
    """The namespace without the schedule (a worker process in another test may have
    made it), before and after."""

    async def delete() -> None:
        try:
            await client.get_schedule_handle(BLOB_RETENTION_SCHEDULE_ID).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise

    await delete()
    yield
    await delete()


async def test_workers_starting_at_once_and_again_leave_one_schedule_that_runs_the_sweep(
    client: Client, worker: Worker, no_schedule: None
) -> None:
    settings = Settings(KASAL_TASK_QUEUE=worker.task_queue, KASAL_BLOB_RETENTION_INTERVAL_HOURS=6)
    created = await asyncio.gather(
        *(ensure_blob_retention_schedule(client, settings) for _ in range(3))
    )
    assert sorted(created) == [False, False, True]
    # A later start, even with another interval, leaves it as it is.
    assert not await ensure_blob_retention_schedule(client, settings)
    other = settings.model_copy(update={"KASAL_BLOB_RETENTION_INTERVAL_HOURS": 12})
    assert not await ensure_blob_retention_schedule(client, other)

    async def listed() -> list[str]:
        return [s.id async for s in await client.list_schedules()]

    ids = await eventually(listed, lambda ids: BLOB_RETENTION_SCHEDULE_ID in ids)
    assert ids.count(BLOB_RETENTION_SCHEDULE_ID) == 1
    handle = client.get_schedule_handle(BLOB_RETENTION_SCHEDULE_ID)
    schedule = (await handle.describe()).schedule
    assert [spec.every for spec in schedule.spec.intervals] == [timedelta(hours=6)]
    assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue) == (BLOB_RETENTION_WORKFLOW, worker.task_queue)

    # Triggered now rather than in six hours: the sweep runs on the worker and completes.
    await handle.trigger()
    described = await eventually(handle.describe, lambda d: bool(d.info.recent_actions))
    started = described.info.recent_actions[0].action
    sweep = client.get_workflow_handle_for(BlobRetentionWorkflow.run, started.workflow_id)
    # Nothing in the worker's store is a day old.
    assert (await sweep.result()).model_dump() == {"runs_gone": 0, "blobs_deleted": 0}
