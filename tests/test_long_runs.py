"""Long runs continue as new when Temporal suggests it, and lose nothing on the way."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from tests.api_stack import ApiStack
from tests.conftest import STEPS_PAST_CONTINUE_AS_NEW
from tests.helpers import (
    agent,
    assert_replays,
    continued_as_new,
    eventually,
    start_run,
    task,
)
from tests.stub_llm import StubLLM
from tests.test_api_runs import create_workflow, listed_runs, start, wait_for_run

STEPS = 500


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def test_a_plan_of_500_quick_steps_continues_as_new_and_completes(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    definition = {
        "agents": [agent()],
        "steps": [task(f"s{i}") for i in range(STEPS)],
        "max_parallel": 64,
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()

    assert len(result.outputs_by_step()) == STEPS
    # First the steps retried, with why: a second call has been a missed heartbeat.
    assert [(s.id, s.attempt, s.execution, s.log) for s in result.steps if s.attempt != 1] == []
    assert stub_llm.call_count() == STEPS  # each step exactly once across executions
    await continued_as_new(client, handle.id)  # Temporal suggested it at least once
    await assert_replays(
        client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    )


async def test_the_api_reads_a_continued_run_whole(api: ApiStack, stub_llm: StubLLM) -> None:
    steps = STEPS_PAST_CONTINUE_AS_NEW
    spec = {"agents": [agent()], "steps": [task(f"s{i}") for i in range(steps)], "max_parallel": 32}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    # Started after the long run, so newer, though the long run's latest execution,
    # after continue-as-new, starts later still.
    short_spec = {"agents": [agent()], "steps": [task("only")]}
    created = await api.http.post("/workflows", json={"name": "short", "spec": short_spec})
    short_id = (await start(api, created.json()["id"]))["run_id"]
    run = await wait_for_run(api, run_id, "completed", timeout=300)
    short = await wait_for_run(api, short_id, "completed")

    assert len(run["steps"]) == steps
    assert all(s["status"] == "completed" for s in run["steps"])
    description = await api.env.client.get_workflow_handle(run_id).describe()
    assert run["temporal"]["run_id"] == description.run_id  # the current execution
    history = (await api.http.get(f"/runs/{run_id}/history")).json()
    starts = [e for e in history if e["type"] == "WorkflowExecutionStarted"]
    assert len(starts) >= 2  # the chain of executions, joined
    scheduled = {e["step_id"] for e in history if e["type"] == "ActivityTaskScheduled"}
    assert scheduled == {f"s{i}" for i in range(steps)}
    first_execution = api.env.client.get_workflow_handle(
        run_id, run_id=description.raw_description.workflow_execution_info.first_run_id
    )
    await assert_replays(first_execution)  # it ends in ContinueAsNew

    # The run keeps the start time and the place in the newest-first list of its first
    # execution, not its latest.
    first_started = (await first_execution.describe()).start_time
    assert first_started is not None and description.start_time > first_started
    assert abs((datetime.fromisoformat(run["started_at"]) - first_started).total_seconds()) < 5
    assert datetime.fromisoformat(run["started_at"]) < datetime.fromisoformat(short["started_at"])
    listed = [r for r in await listed_runs(api, limit=50) if r["run_id"] in (run_id, short_id)]
    assert [r["run_id"] for r in listed] == [short_id, run_id]
    assert listed[1]["started_at"] == run["started_at"]


async def test_a_parent_waits_out_its_childs_gate_then_continues_as_new_losing_nothing(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """A sub-workflow's gate waits while the parent's other steps push its history past
    the continue-as-new suggestion. A child is in flight, so the parent drains: it starts
    no more steps until the gate is decided, then continues as new and runs the rest.
    Every step, parent's or child's, is asked once, and the decision is recorded once."""
    child = {
        "agents": [agent()],
        "steps": [
            task("research"),
            {"id": "check", "type": "approval", "after": ["research"], "message": "Good?"},
        ],
    }
    await create_workflow(api, child, name="research")
    quick = [task(f"q{i}") for i in range(STEPS_PAST_CONTINUE_AS_NEW)]
    parent = {
        "agents": [agent()],
        "steps": [{"id": "sub", "type": "workflow", "workflow": "research"}, *quick],
        "max_parallel": 32,
    }
    run_id = (await start(api, await create_workflow(api, parent)))["run_id"]

    async def read() -> dict[str, Any]:
        return dict((await api.http.get(f"/runs/{run_id}")).json())

    def draining(run: dict[str, Any]) -> bool:  # the child waits; the rest held back
        statuses = {s["status"] for s in run["steps"][1:]}
        waits = run["steps"][0]["child_status"] == "waiting_for_approval"
        return waits and "running" not in statuses and "pending" in statuses

    run = await eventually(read, draining, timeout=120)
    [child_id] = run["steps"][0]["child_run_ids"]
    decided = await api.http.post(
        f"/runs/{child_id}/steps/check/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text

    run = await wait_for_run(api, run_id, "completed", timeout=180)
    assert {s["status"] for s in run["steps"]} == {"completed"}
    retried = [(s["id"], s["attempt"], s["log"]) for s in run["steps"] if s["attempt"] > 1]
    # The child's research, and each q once.
    assert stub_llm.call_count() == len(quick) + 1, retried
    await continued_as_new(api.env.client, run_id)
    child_run = await wait_for_run(api, child_id, "completed")
    assert [d["decision"] for d in child_run["steps"][1]["decisions"]] == ["approve"]
