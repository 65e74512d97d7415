"""The usage log never costs a run anything: a row that cannot be written is logged and
the step goes on (activities/usage_log.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from temporalio.client import Client

from activities.model_registry import StaticModelRegistry
from db.blobs import BlobStore
from db.migrate import upgrade_to_head
from db.session import create_engine, session_factory
from tests.helpers import agent, fast_retry, marker, start_run, task
from tests.stub_llm import Reply, StubLLM
from worker.main import build_worker


async def test_a_usage_row_that_cannot_be_written_never_fails_the_step(
    client: Client,
    stub_models: StaticModelRegistry,
    stub_llm: StubLLM,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:  # every usage write now fails
            await connection.execute(text("DROP TABLE llm_usage"))
        blobs = BlobStore(session_factory(engine))
        stub_llm.script(marker("a"), Reply("answered all the same"))
        # One attempt, and a failure ends the run: a failing write would show at once.
        step = task("a", retry=fast_retry(max_attempts=1), on_failure="fail")
        spec = {"agents": [agent()], "steps": [step]}
        worker = build_worker(client, f"kasal-test-{uuid.uuid4()}", stub_models, blobs, 10)
        with caplog.at_level(logging.WARNING, logger="activities.usage_log"):
            async with worker:
                handle = await start_run(client, worker, spec)
                result = await handle.result()
    finally:
        await engine.dispose()

    assert result.outcome == "completed"
    [step] = result.steps
    assert (step.attempt, step.output) == (1, "answered all the same")
    assert step.usage is not None and step.usage.llm_calls == 1
    assert [r.getMessage() for r in caplog.records if r.name == "activities.usage_log"] == [
        f"usage of an LLM call of run {handle.id} step a not kept"
    ]
