"""Fork a run from a step: the steps before it are reused, not run or paid for again."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.blob_cipher import BlobCipher, open_text
from db.models import Blob
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from tests.api_stack import ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.run_state import AgentWorkflowResult, StepState


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def chain(c_description: str = "Do step STEP-C.", a_goal: str = "Write well") -> dict[str, Any]:
    return {
        "agents": [agent(goal=a_goal)],
        "steps": [
            task("a"),
            task("b", after=["a"]),
            task("c", after=["b"], description=c_description),
        ],
    }


async def fork(api: ApiStack, run_id: str, **body: Any) -> dict[str, Any]:
    response = await api.http.post(f"/runs/{run_id}/fork", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_fork_reruns_the_step_and_what_follows_and_reuses_what_came_before(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("alpha"))
    stub_llm.script(marker("b"), Reply("beta one"), Reply("beta two"))
    stub_llm.script(marker("c"), Reply("gamma"))
    workflow_id = await create_workflow(api, chain())
    parent = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, parent, "completed")

    forked = await fork(api, parent, from_step="b")
    assert forked["forked_from"] == {"run_id": parent, "step_id": "b"}
    assert (forked["reused"], forked["rerun"]) == (["a"], ["b", "c"])
    child = await wait_for_run(api, forked["run_id"], "completed")

    calls = {s: stub_llm.call_count(marker(s)) for s in "abc"}
    assert calls == {"a": 1, "b": 2, "c": 2}
    steps = {s["id"]: s for s in child["steps"]}
    assert steps["a"]["output"] == "alpha"
    assert steps["a"]["log"][-1] == f"reused from run {parent}"
    assert steps["b"]["output"] == "beta two"
    # b's second run saw a's reused output as its context.
    assert "alpha" in stub_llm.calls(marker("b"))[-1].messages_text
    assert child["forked_from"] == {"run_id": parent, "step_id": "b"}
    parent_read = (await api.http.get(f"/runs/{parent}")).json()
    assert parent_read["forks"] == [forked["run_id"]]


async def test_a_fork_on_an_edited_version_reruns_only_what_changed(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    for step_id in "abc":
        stub_llm.script(marker(step_id), Reply(f"output of {step_id}"))
    workflow_id = await create_workflow(api, chain())
    parent = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, parent, "completed")
    edited = await api.http.put(
        f"/workflows/{workflow_id}", json={"spec": chain(c_description="Do step STEP-C, briefly.")}
    )
    assert edited.status_code == 200, edited.text

    forked = await fork(api, parent, from_step="c", version=2)
    assert (forked["reused"], forked["rerun"], forked["version"]) == (["a", "b"], ["c"], 2)
    await wait_for_run(api, forked["run_id"], "completed")
    assert {s: stub_llm.call_count(marker(s)) for s in "abc"} == {"a": 1, "b": 1, "c": 2}

    # A change upstream of the fork point re-runs that step and everything it feeds.
    changed_agent = await api.http.put(
        f"/workflows/{workflow_id}", json={"spec": chain(a_goal="Write tersely")}
    )
    assert changed_agent.status_code == 200, changed_agent.text
    again = await fork(api, parent, from_step="c", version=3)
    assert (again["reused"], again["rerun"]) == ([], ["a", "b", "c"])


async def test_a_fork_from_a_step_the_run_does_not_have_is_refused_with_its_field(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    workflow_id = await create_workflow(api, chain())
    parent = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, parent, "completed")
    refused = await api.http.post(f"/runs/{parent}/fork", json={"from_step": "ghost"})
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["from_step"] and "ghost" in error["msg"]
    unknown_run = await api.http.post("/runs/run-nope/fork", json={"from_step": "a"})
    assert unknown_run.status_code == 404


async def step_state(api: ApiStack, run_id: str, step_id: str) -> StepState:
    """The step as the run holds it, refs included (the API shows outputs whole instead)."""
    handle = api.env.client.get_workflow_handle(run_id, result_type=AgentWorkflowResult)
    return next(s for s in (await handle.result()).steps if s.id == step_id)


async def stored_blobs(api: ApiStack, run_ids: list[str]) -> dict[str, Blob]:
    """Every blob of these runs, by id, read from the stack's database."""
    engine = create_engine(api.settings.database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            query = select(Blob).where(Blob.run_id.in_(run_ids))
            return {str(b.id): b for b in (await uow.session.execute(query)).scalars()}
    finally:
        await engine.dispose()


async def test_a_fork_keeps_copies_of_the_reused_blobs_under_its_own_run_id(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """Retention deletes a run's blobs once Temporal has dropped the run: a fork that
    pointed at its parent's would lose its reused steps' outputs with the parent."""
    long = "alpha " * 300  # over the 1,000-character inline limit: kept by reference
    stub_llm.script(marker("a"), Reply(long))
    workflow_id = await create_workflow(api, chain())
    parent = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, parent, "completed")

    headers = {"Idempotency-Key": f"fork-{uuid.uuid4()}"}
    response = await api.http.post(f"/runs/{parent}/fork", json={"from_step": "b"}, headers=headers)
    assert response.status_code == 201, response.text
    forked = response.json()["run_id"]
    child = await wait_for_run(api, forked, "completed")
    assert child["steps"][0]["output"] == long.strip()

    held, reused = await step_state(api, parent, "a"), await step_state(api, forked, "a")
    originals = [held.output_ref, held.transcript_ref]
    copies = [reused.output_ref, reused.transcript_ref]
    assert all(originals) and all(copies) and set(copies).isdisjoint(originals)
    blobs = await stored_blobs(api, [parent, forked])
    secrets = load_secret_box(
        api.settings.KASAL_SECRET_KEY, api.settings.KASAL_DATA_DIR, create=False
    )
    cipher = BlobCipher.of(secrets)

    def content(blob: Blob) -> str:
        return open_text(cipher, blob.content, kind=blob.kind, run_id=blob.run_id)

    for original, copy in zip(originals, copies, strict=True):
        assert original is not None and copy is not None
        assert (blobs[original].run_id, blobs[copy].run_id) == (parent, forked)
        assert (blobs[copy].kind, content(blobs[copy])) == (
            blobs[original].kind,
            content(blobs[original]),
        )
        # Encrypted again for the fork's run id (db/blob_cipher.py).
        assert blobs[copy].content != blobs[original].content

    # The reused step's transcript reads the same in the fork: its calls were copied.
    parent_run = (await api.http.get(f"/runs/{parent}")).json()
    assert child["steps"][0]["transcript"] == parent_run["steps"][0]["transcript"] != []

    # The same request again finds the same fork, and copies nothing more.
    again = await api.http.post(f"/runs/{parent}/fork", json={"from_step": "b"}, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["run_id"] == forked
    forks_a = [b for b in (await stored_blobs(api, [forked])).values() if b.step_id == "a"]
    assert sorted(str(b.id) for b in forks_a) == sorted(str(c) for c in copies)
