"""A model config's max_concurrency and rpm, held across workers by leases in the shared
database (db/model_limits.py): on SQLite and on Postgres, with a clock the test turns."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.migrate import upgrade_to_head
from db.model_limits import CallLimits, ModelLimiter
from db.session import create_engine, session_factory
from tests.api_stack import ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import start, wait_for_run
from tests.test_branches import most_at_once

LONGEST = timedelta(seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def limiter(database_url: str) -> AsyncIterator[tuple[ModelLimiter, Clock]]:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    clock = Clock()
    try:
        yield ModelLimiter(session_factory(engine), contextlib.nullcontext, clock), clock
    finally:
        await engine.dispose()


def limits(**fields: Any) -> CallLimits:
    # A config of its own per test: Postgres is shared by the session's tests.
    return CallLimits(
        f"ws-{uuid.uuid4()}", "metered", **{"max_concurrency": None, "rpm": None, **fields}
    )


async def test_max_concurrency_holds_until_a_lease_is_released_or_expires(
    limiter: tuple[ModelLimiter, Clock],
) -> None:
    model, clock = limiter
    two = limits(max_concurrency=2)
    first = await model.try_take(two, LONGEST)
    second = await model.try_take(two, LONGEST)
    assert isinstance(first, uuid.UUID) and isinstance(second, uuid.UUID)
    assert isinstance(await model.try_take(two, LONGEST), timedelta)
    await model.release(first)
    third = await model.try_take(two, LONGEST)
    assert isinstance(third, uuid.UUID)
    # A worker that died never releases: its lease frees the slot once it expires.
    clock.now += LONGEST + timedelta(seconds=1)
    assert isinstance(await model.try_take(two, LONGEST), uuid.UUID)


async def test_rpm_counts_the_starts_of_the_last_minute(
    limiter: tuple[ModelLimiter, Clock],
) -> None:
    model, clock = limiter
    two_a_minute = limits(rpm=2)
    for _ in range(2):
        lease = await model.try_take(two_a_minute, LONGEST)
        assert isinstance(lease, uuid.UUID)
        await model.release(lease)
        clock.now += timedelta(seconds=10)
    wait = await model.try_take(two_a_minute, LONGEST)
    assert wait == timedelta(seconds=40)  # until the first start is a minute old
    clock.now += wait
    assert isinstance(await model.try_take(two_a_minute, LONGEST), uuid.UUID)


async def test_steps_that_share_a_model_with_max_concurrency_one_call_it_one_at_a_time(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    created = await api.http.post(
        "/models",
        json={
            "name": "single",
            "model": "openai/stub-model",
            "api_base": stub_llm.url,
            "max_concurrency": 1,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["max_concurrency"] == 1
    for step_id in ("a", "b", "c"):
        stub_llm.script(marker(step_id), Reply(f"answer {step_id}", delay=0.3))
    spec = {"agents": [agent(llm="single")], "steps": [task("a"), task("b"), task("c")]}
    workflow = await api.http.post("/workflows", json={"name": "parallel", "spec": spec})
    assert workflow.status_code == 201, workflow.text
    run_id = (await start(api, workflow.json()["id"]))["run_id"]
    await wait_for_run(api, run_id, "completed", timeout=60)

    calls = [call for step_id in "abc" for call in stub_llm.calls(marker(step_id))]
    assert len(calls) == 3
    assert most_at_once(calls) == 1
