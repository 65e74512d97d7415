"""A run's timeline through the real stack: a step that fails once and then succeeds with
a tool call, then an approval gate. The timeline holds both attempts with the backoff
between them, the calls inside the attempt that made them, and the gate's wait."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.api_stack import ADMIN_EMAIL, ApiStack
from tests.helpers import agent, fast_retry, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run

SPEC: dict[str, Any] = {
    "agents": [agent(tools=["calculate"])],
    "steps": [
        task("a", retry=fast_retry(max_attempts=3)),
        {"id": "review", "type": "approval", "after": ["a"], "message": "Go on?"},
    ],
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def timeline(api: ApiStack, run_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/runs/{run_id}/timeline")
    assert response.status_code == 200, response.text
    return dict(response.json())


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def step_of(document: dict[str, Any], step_id: str) -> dict[str, Any]:
    [step] = [s for s in document["steps"] if s["step_id"] == step_id]
    return dict(step)


async def test_the_timeline_holds_attempts_backoff_calls_and_the_gate_wait(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("a"),
        Reply.error(500),
        Reply(
            "Thought: I should use a tool.\nAction: calculate\n"
            f"Action Input: {json.dumps({'expression': '6*7'})}"
        ),
        Reply("Thought: I know it now.\nFinal Answer: forty-two"),
    )
    run_id = (await start(api, await create_workflow(api, SPEC)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")

    waiting = await timeline(api, run_id)
    assert [s["step_id"] for s in waiting["steps"]] == ["a", "review"]
    [open_wait] = step_of(waiting, "review")["gate_waits"]
    assert open_wait["round"] == 1 and open_wait["ended_at"] is None
    assert open_wait["decision"] is None
    assert at(open_wait["started_at"]) <= at(waiting["now"])

    decided = await api.http.post(
        f"/runs/{run_id}/steps/review/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    await wait_for_run(api, run_id, "completed")
    done = await timeline(api, run_id)
    assert done["status"] == "completed"

    a = step_of(done, "a")
    first, second = a["attempts"]
    assert [(x["execution"], x["attempt"]) for x in (first, second)] == [(1, 1), (1, 2)]
    assert first["outcome"] == "failed" and "Stub LLM scripted error 500" in first["error"]
    assert first["calls"] == []  # the call that failed answered nothing to keep
    assert second["outcome"] == "succeeded" and second["error"] is None

    # The backoff is the time between the failed attempt's end and the next one's start.
    [backoff] = a["gaps"]
    assert backoff["kind"] == "backoff" and backoff["execution"] == 1
    assert backoff["started_at"] == first["finished_at"]
    assert backoff["ended_at"] == second["started_at"]
    assert at(first["finished_at"]) < at(second["started_at"])

    # The second attempt's calls, in order, each inside the attempt's window.
    calls = second["calls"]
    assert [c["kind"] for c in calls] == ["llm", "tool", "llm"]
    assert [c.get("model") or c.get("tool") for c in calls] == [
        "openai/stub-model",
        "calculate",
        "openai/stub-model",
    ]
    assert calls[1]["error"] is None
    for call in calls:
        assert at(second["started_at"]) <= at(call["started_at"])
        assert at(call["started_at"]) <= at(call["finished_at"]) <= at(second["finished_at"])
    for earlier, later in pairwise(calls):
        assert at(earlier["finished_at"]) <= at(later["started_at"])
    for llm in (calls[0], calls[2]):
        assert llm["usage"]["llm_calls"] == 1 and llm["usage"]["total_tokens"] > 0
    assert stub_llm.call_count(marker("a")) == 3

    # The gate waited from the time it opened, after the step, until the decision.
    review = step_of(done, "review")
    assert review["attempts"] == [] and review["gaps"] == []
    [wait] = review["gate_waits"]
    assert wait["started_at"] == open_wait["started_at"]
    assert wait["decision"] == "approve" and wait["actor"] == ADMIN_EMAIL
    assert at(second["finished_at"]) <= at(wait["started_at"]) < at(wait["ended_at"])
    assert at(wait["ended_at"]) <= at(done["closed_at"])


async def test_the_attempt_in_flight_shows_with_the_calls_it_has_made_so_far(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("a"),
        Reply(
            "Thought: I should use a tool.\nAction: calculate\n"
            f"Action Input: {json.dumps({'expression': '6*7'})}"
        ),
        Reply("Thought: I know it now.\nFinal Answer: forty-two", held=True),
    )
    run_id = (await start(api, await create_workflow(api, SPEC)))["run_id"]
    await asyncio.to_thread(stub_llm.wait_for_calls, 2, marker("a"), 30)

    running = step_of(await timeline(api, run_id), "a")
    [attempt] = running["attempts"]
    assert attempt["outcome"] == "running" and attempt["finished_at"] is None
    assert [(c["kind"], c["call_index"]) for c in attempt["calls"]] == [("llm", 0), ("tool", 1)]
    assert all(at(attempt["started_at"]) <= at(c["started_at"]) for c in attempt["calls"])
    assert running["gaps"] == []

    stub_llm.release()
    await wait_for_run(api, run_id, "waiting_for_approval")
    [finished] = step_of(await timeline(api, run_id), "a")["attempts"]
    assert finished["outcome"] == "succeeded"
    # The same attempt, now recorded: Temporal saw it start just before the worker did.
    assert (finished["execution"], finished["attempt"]) == (
        attempt["execution"],
        attempt["attempt"],
    )
    assert at(attempt["started_at"]) <= at(finished["started_at"])
    assert [c["kind"] for c in finished["calls"]] == ["llm", "tool", "llm"]


async def test_an_unknown_run_has_no_timeline(api: ApiStack) -> None:
    response = await api.http.get("/runs/no-such-run/timeline")
    assert response.status_code == 404
    assert response.json() == {"detail": "no run no-such-run"}
