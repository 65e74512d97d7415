"""Every attempt of a step keeps its transcript, failed ones included, and the API serves
them from the blob store by run and step, in order of execution, then attempt."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.api_stack import ApiStack
from tests.conftest import STUB_API_KEY
from tests.helpers import agent, fast_retry, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # One query on the blobs table; SQLite is enough here (and spares a Postgres).
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def transcript(api: ApiStack, run_id: str, step_id: str) -> list[dict[str, Any]]:
    response = await api.http.get(f"/runs/{run_id}/steps/{step_id}/transcript")
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["attempts"]
    return list(response.json()["attempts"])


def numbered(attempts: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(attempt["execution"], attempt["attempt"]) for attempt in attempts]


async def test_failed_attempts_keep_their_transcripts_beside_the_one_that_passed(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(500), Reply.error(500), Reply("third time lucky"))
    spec = {"agents": [agent()], "steps": [task("a", retry=fast_retry(max_attempts=3))]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "completed")

    attempts = await transcript(api, run_id, "a")
    assert numbered(attempts) == [(1, 1), (1, 2), (1, 3)]
    assert all(
        set(attempt) == {"execution", "attempt", "started_at", "finished_at", "error", "entries"}
        for attempt in attempts
    )
    for failed in attempts[:2]:
        assert "InternalServerError" in failed["error"]
        assert "Stub LLM scripted error 500" in failed["error"]
    passed = attempts[2]
    assert passed["error"] is None
    [call] = passed["entries"]
    assert call["kind"] == "llm"
    assert call["reply"] == "third time lucky"
    assert marker("a") in call["messages"][-1]["content"]
    # Each attempt's times are its own: the next starts after the previous finished.
    times = [
        (datetime.fromisoformat(a["started_at"]), datetime.fromisoformat(a["finished_at"]))
        for a in attempts
    ]
    assert all(started <= finished for started, finished in times)
    assert all(times[i][1] <= times[i + 1][0] for i in range(len(times) - 1))
    assert stub_llm.call_count(marker("a")) == 3


async def test_an_operators_retry_is_the_next_execution_and_no_key_is_kept(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.echo_key_401())  # permanent: pauses after one attempt
    spec = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")

    [paused] = await transcript(api, run_id, "a")
    assert numbered([paused]) == [(1, 1)]
    assert "AuthenticationError" in paused["error"]
    assert STUB_API_KEY not in paused["error"]  # the provider echoed it; we never keep it
    # A known run whose step has not run yet: nothing to show, but nothing missing either.
    assert await transcript(api, run_id, "b") == []

    stub_llm.reset()
    stub_llm.script(marker("a"), Reply("works now"))
    retried = await api.http.post(f"/runs/{run_id}/steps/a/retry", json={"actor": "ops"})
    assert retried.status_code == 200, retried.text
    await wait_for_run(api, run_id, "completed")

    attempts = await transcript(api, run_id, "a")
    assert numbered(attempts) == [(1, 1), (2, 1)]
    assert attempts[0] == paused  # the first execution's record is kept as it was
    assert attempts[1]["error"] is None
    assert [call["reply"] for call in attempts[1]["entries"]] == ["works now"]
    assert numbered(await transcript(api, run_id, "b")) == [(1, 1)]


async def test_an_unknown_run_is_not_found(api: ApiStack) -> None:
    response = await api.http.get("/runs/no-such-run/steps/a/transcript")
    assert response.status_code == 404
    assert response.json() == {"detail": "no run no-such-run"}


async def test_a_runs_page_reads_every_steps_transcript_in_one_journal_query(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """The run page shows each step's transcript. It read the call journal once a step:
    with 384 steps in a busy run on Postgres, the page took 25 s and its client gave up."""
    steps = [task(f"s{i}") for i in range(12)]
    stub_llm.script("STEP-S", Reply("done"))
    spec = {"agents": [agent()], "steps": steps, "max_parallel": 12}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "completed")

    journal_reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "call_journal" in statement:
            journal_reads.append(statement)

    engine = api.server.app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await api.http.get(f"/runs/{run_id}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    assert all(step["transcript"] for step in response.json()["steps"])
    assert len(journal_reads) == 1, journal_reads
