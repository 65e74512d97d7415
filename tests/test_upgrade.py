"""Runs started on AgentWorkflow before the upgrade finish on it, and the API still serves them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.api_stack import ApiStack
from tests.conftest import STUB_MODEL
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.agent_workflow import AgentWorkflow
from workflows.compiler import compile_plan
from workflows.run_state import AgentWorkflowInput

GATED = {
    "agents": [agent()],
    "steps": [
        task("draft"),
        {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"},
        task("publish", after=["review"]),
    ],
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def test_a_run_started_on_agent_workflow_finishes_on_it_through_the_api(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("publish"), Reply("published"))
    old_run = f"run-legacy-{time.monotonic_ns()}"
    await api.env.client.start_workflow(
        AgentWorkflow.run,
        AgentWorkflowInput(plan=compile_plan(GATED, {}, {STUB_MODEL})),
        id=old_run,
        task_queue=api.settings.KASAL_TASK_QUEUE,
    )
    new_run = (await start(api, await create_workflow(api, GATED)))["run_id"]
    for run_id in (old_run, new_run):
        await wait_for_run(api, run_id, "waiting_for_approval")
        approved = await api.http.post(
            f"/runs/{run_id}/steps/review/decision", json={"decision": "approve"}
        )
        assert approved.status_code == 200, approved.text
        run = await wait_for_run(api, run_id, "completed")
        assert run["result"]["final_output"] == "published"

    described = {
        run_id: (await api.env.client.get_workflow_handle(run_id).describe()).workflow_type
        for run_id in (old_run, new_run)
    }
    assert described == {old_run: "AgentWorkflow", new_run: "AgentWorkflowV2"}
    listed = (await api.http.get("/runs", params={"status": "completed"})).json()["items"]
    assert {old_run, new_run} <= {r["run_id"] for r in listed}
