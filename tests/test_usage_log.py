"""The usage log never costs a run anything: a row that cannot be written is logged and
the step goes on (activities/usage_log.py). A call's usage row is written with its
journal record, in one transaction; when that fails, apart."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from activities.model_registry import StaticModelRegistry
from db.blobs import BlobStore
from db.migrate import upgrade_to_head
from db.models import LlmUsageRow
from db.session import create_engine, session_factory
from tests.helpers import agent, fast_retry, marker, start_run, task
from tests.stub_llm import Reply, StubLLM
from worker.main import build_worker
from workflows.run_state import AgentWorkflowResult, RunState
from workflows.status import StepStatus


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


async def run_one_step(
    client: Client, stub_models: StaticModelRegistry, stub_llm: StubLLM, engine: AsyncEngine
) -> AgentWorkflowResult | RunState:
    """One step of one LLM call, on one attempt, with ``engine`` as the worker's database:
    the run's result, or the state it failed in."""
    stub_llm.script(marker("a"), Reply("answered"))
    step = task("a", retry=fast_retry(max_attempts=1), on_failure="fail")
    spec = {"agents": [agent()], "steps": [step]}
    blobs = BlobStore(session_factory(engine))
    worker = build_worker(client, f"kasal-test-{uuid.uuid4()}", stub_models, blobs, 10)
    async with worker:
        handle = await start_run(client, worker, spec)
        try:
            return await handle.result()
        except WorkflowFailureError as failure:
            assert isinstance(failure.cause, ApplicationError)
            return RunState.model_validate(failure.cause.details[0])


async def test_a_calls_journal_record_and_its_usage_row_are_one_transaction(
    client: Client, stub_models: StaticModelRegistry, stub_llm: StubLLM, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    writes: list[str] = []  # the worker's inserts and commits, in order

    def on_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("INSERT INTO "):
            writes.append(statement.removeprefix("INSERT INTO ").split(" ")[0])

    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(engine.sync_engine, "commit", lambda _conn: writes.append("COMMIT"))
    try:
        result = await run_one_step(client, stub_models, stub_llm, engine)
    finally:
        await engine.dispose()

    assert isinstance(result, AgentWorkflowResult) and result.outcome == "completed"
    start = writes.index("call_journal")
    assert writes[start : start + 3] == ["call_journal", "llm_usage", "COMMIT"]
    assert writes.count("llm_usage") == 1


async def test_a_call_the_journal_cannot_keep_fails_the_attempt_and_its_usage_is_kept(
    client: Client, stub_models: StaticModelRegistry, stub_llm: StubLLM, tmp_path: Path
) -> None:
    """Made and paid for, the call is on the usage page even though journaling failed;
    the attempt fails, as a reply the journal does not hold must not be used."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:  # every journal record now fails
            await connection.execute(
                text(
                    "CREATE TRIGGER journal_refuses BEFORE INSERT ON call_journal "
                    "BEGIN SELECT RAISE(ABORT, 'the journal refuses'); END"
                )
            )
        state = await run_one_step(client, stub_models, stub_llm, engine)
        async with engine.connect() as connection:
            usage_rows = await connection.scalar(select(func.count()).select_from(LlmUsageRow))
    finally:
        await engine.dispose()

    assert isinstance(state, RunState)
    [step] = state.steps
    assert step.status == StepStatus.FAILED
    assert step.error is not None and "the journal refuses" in step.error
    assert stub_llm.call_count(marker("a")) == 1
    assert usage_rows == 1
