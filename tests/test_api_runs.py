"""Runs over HTTP: started on Temporal, read back from it, on SQLite and on Postgres."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api_stack import ApiStack
from tests.conftest import STUB_API_KEY, TEMPORAL_UI_URL
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM

TOPIC_SPEC: dict[str, Any] = {
    "inputs": [{"name": "topic"}, {"name": "tone", "required": False, "default": "plain"}],
    "agents": [agent()],
    "steps": [
        task("a", description="STEP-A: research {topic} in a {tone} tone."),
        task("b", after=["a"]),
    ],
}


async def create_workflow(
    api: ApiStack, spec: dict[str, Any] = TOPIC_SPEC, name: str = "brief"
) -> str:
    response = await api.http.post("/workflows", json={"name": name, "spec": spec})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def start(api: ApiStack, workflow_id: str, **body: Any) -> dict[str, Any]:
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def wait_for_run(
    api: ApiStack, run_id: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return dict((await api.http.get(f"/runs/{run_id}")).json())

    return await eventually(read, lambda run: run.get("status") == status, timeout=timeout)


async def listed_runs(api: ApiStack, **params: Any) -> list[dict[str, Any]]:
    response = await api.http.get("/runs", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_run_completes_and_reads_back_with_every_step(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("notes on cats"))
    stub_llm.script(marker("b"), Reply("the brief"))
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    assert created["run_id"].startswith("run-")
    assert created["version"] == 1
    assert created["status"] == "running"
    temporal = created["temporal"]
    assert temporal["namespace"] == "default"
    assert temporal["workflow_id"] == created["run_id"]
    assert temporal["web_url"].startswith(
        f"{TEMPORAL_UI_URL}/namespaces/default/workflows/{created['run_id']}"
    )

    run = await wait_for_run(api, created["run_id"], "completed")
    assert run["workflow_id"] == workflow_id
    assert run["workflow_name"] == "brief"
    assert [(s["id"], s["status"], s["output"]) for s in run["steps"]] == [
        ("a", "completed", "notes on cats"),
        ("b", "completed", "the brief"),
    ]
    assert run["steps"][0]["usage"]["llm_calls"] == 1
    assert run["result"]["final_output"] == "the brief"
    assert "research cats in a plain tone" in stub_llm.calls(marker("a"))[0].messages_text

    history = (await api.http.get(f"/runs/{created['run_id']}/history")).json()
    assert history[0]["type"] == "WorkflowExecutionStarted"
    scheduled = [e["step_id"] for e in history if e["type"] == "ActivityTaskScheduled"]
    assert scheduled == ["a", "b"]
    assert any(e["type"] == "ActivityTaskCompleted" and e["step_id"] == "b" for e in history)


async def test_a_run_stays_pinned_to_its_version(api: ApiStack, stub_llm: StubLLM) -> None:
    stub_llm.script(marker("a"), Reply("a-out", delay=1.0))
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    v2 = {**TOPIC_SPEC, "steps": [task("only")]}
    response = await api.http.put(f"/workflows/{workflow_id}", json={"spec": v2})
    assert response.json()["version"] == 2

    run = await wait_for_run(api, created["run_id"], "completed")
    assert run["version"] == 1
    assert [s["id"] for s in run["steps"]] == ["a", "b"]
    second = await start(api, workflow_id, inputs={"topic": "dogs"}, version=1)
    assert second["version"] == 1


@pytest.mark.parametrize(
    ("inputs", "loc", "msg"),
    [
        ({}, ["inputs", "topic"], "missing required input 'topic'"),
        ({"topic": "x", "colour": "red"}, ["inputs", "colour"], "unknown input 'colour'"),
        ({"topic": ["a", "list"]}, ["inputs", "topic"], "must be text, a number or a boolean"),
    ],
)
async def test_bad_inputs_are_422_and_start_nothing(
    api: ApiStack, inputs: dict[str, Any], loc: list[str], msg: str
) -> None:
    workflow_id = await create_workflow(api)
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json={"inputs": inputs})
    assert response.status_code == 422
    assert {"loc": loc, "msg": msg, "type": "compile_error"} in response.json()["detail"]
    await asyncio.sleep(1)  # visibility is eventually consistent
    assert await listed_runs(api, workflow_id=workflow_id) == []


async def test_a_model_deleted_since_saving_is_422(api: ApiStack) -> None:
    await api.http.post("/models", json={"name": "temp", "model": "openai/x"})
    workflow_id = await create_workflow(api, {**TOPIC_SPEC, "agents": [agent(llm="temp")]})
    await api.http.delete("/models/temp")
    response = await api.http.post(
        f"/workflows/{workflow_id}/runs", json={"inputs": {"topic": "x"}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["agents", 0, "llm"]


async def test_unknown_workflow_version_and_run_are_404(api: ApiStack) -> None:
    workflow_id = await create_workflow(api)
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await api.http.post(f"/workflows/{missing}/runs", json={})).status_code == 404
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json={"version": 9})
    assert response.status_code == 404
    assert (await api.http.get("/runs/run-nope")).status_code == 404
    assert (await api.http.get("/runs/run-nope/history")).status_code == 404


async def test_the_same_idempotency_key_gives_one_run(api: ApiStack, stub_llm: StubLLM) -> None:
    workflow_id = await create_workflow(api)
    body = {"inputs": {"topic": "cats"}}
    headers = {"Idempotency-Key": "launch-42"}
    first = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    second = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["run_id"] == second.json()["run_id"]
    await wait_for_run(api, first.json()["run_id"], "completed")
    third = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    assert third.json()["run_id"] == first.json()["run_id"]  # closed, still the same run
    assert (third.json()["status"], third.json()["version"]) == ("completed", 1)
    runs = await eventually(
        lambda: listed_runs(api, workflow_id=workflow_id), lambda items: len(items) >= 1
    )
    assert len(runs) == 1
    assert stub_llm.call_count() == 2  # two steps, once


async def test_launches_racing_with_one_idempotency_key_start_one_run(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    workflow_id = await create_workflow(api)
    body = {"inputs": {"topic": "cats"}}
    headers = {"Idempotency-Key": "launch-race"}
    answers = await asyncio.gather(
        *(
            api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
            for _ in range(4)
        )
    )
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["run_id"] for a in answers}) == 1
    await wait_for_run(api, answers[0].json()["run_id"], "completed")
    assert stub_llm.call_count() == 2  # two steps, once


async def test_a_replayed_idempotency_key_reports_the_run_as_it_is_now(api: ApiStack) -> None:
    gated = {
        **TOPIC_SPEC,
        "steps": [
            task("a"),
            {"id": "review", "type": "approval", "after": ["a"], "message": "Go?"},
        ],
    }
    workflow_id = await create_workflow(api, gated)
    headers = {"Idempotency-Key": "launch-43"}
    body = {"inputs": {"topic": "cats"}}
    first = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    run_id = first.json()["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    again = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    assert (again.status_code, again.json()["status"]) == (201, "waiting_for_approval")
    await api.env.client.get_workflow_handle(run_id).terminate("test over")
    await wait_for_run(api, run_id, "terminated")
    closed = await api.http.post(f"/workflows/{workflow_id}/runs", json=body, headers=headers)
    assert (closed.json()["run_id"], closed.json()["status"]) == (run_id, "terminated")


async def test_the_api_key_appears_in_no_response_and_no_history(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.echo_key_401())
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    run = await wait_for_run(api, created["run_id"], "needs_attention")
    assert run["steps"][0]["status"] == "paused"
    assert "AuthenticationError" in run["steps"][0]["error"]
    for path in (f"/runs/{created['run_id']}", f"/runs/{created['run_id']}/history", "/models"):
        assert STUB_API_KEY not in (await api.http.get(path)).text
    handle = api.env.client.get_workflow_handle(created["run_id"])
    assert STUB_API_KEY not in (await handle.fetch_history()).to_json()
    await handle.terminate("test over")


async def test_runs_list_newest_first_with_filters_and_pages(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(400, "no"))  # the first run pauses
    workflow_id = await create_workflow(api)
    paused = await start(api, workflow_id, inputs={"topic": "one"})
    await wait_for_run(api, paused["run_id"], "needs_attention")
    stub_llm.reset()
    done = await start(api, workflow_id, inputs={"topic": "two"})
    await wait_for_run(api, done["run_id"], "completed")

    def both_listed(items: list[dict[str, Any]]) -> bool:
        return len(items) == 2 and {i["status"] for i in items} == {"completed", "needs_attention"}

    items = await eventually(lambda: listed_runs(api, workflow_id=workflow_id), both_listed)
    assert [i["run_id"] for i in items] == [done["run_id"], paused["run_id"]]
    attention = await eventually(
        lambda: listed_runs(api, workflow_id=workflow_id, status="needs_attention"),
        lambda found: len(found) == 1,
    )
    assert attention[0]["run_id"] == paused["run_id"]
    completed = await listed_runs(api, workflow_id=workflow_id, status="completed")
    assert [i["run_id"] for i in completed] == [done["run_id"]]

    page = (await api.http.get("/runs", params={"workflow_id": workflow_id, "limit": 1})).json()
    assert [i["run_id"] for i in page["items"]] == [done["run_id"]]
    assert page["next_page_token"]
    rest = (
        await api.http.get(
            "/runs",
            params={
                "workflow_id": workflow_id,
                "limit": 1,
                "next_page_token": page["next_page_token"],
            },
        )
    ).json()
    assert [i["run_id"] for i in rest["items"]] == [paused["run_id"]]
    assert rest["next_page_token"] is None
    forged = await api.http.get("/runs", params={"next_page_token": "not-a-token"})
    assert forged.status_code == 400
    await api.env.client.get_workflow_handle(paused["run_id"]).terminate("test over")


async def test_an_archived_workflows_runs_keep_working(api: ApiStack, stub_llm: StubLLM) -> None:
    stub_llm.script(marker("a"), Reply("a-out", delay=1.0))
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    assert (await api.http.delete(f"/workflows/{workflow_id}")).status_code == 204
    run = await wait_for_run(api, created["run_id"], "completed")
    assert run["workflow_name"] == "brief"
    assert run["version"] == 1


async def test_an_open_run_reads_back_when_no_worker_answers(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("a-out"))
    stub_llm.script(marker("b"), Reply("b-out", delay=30))
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    await eventually(
        lambda: asyncio.sleep(0.05, stub_llm.call_count(marker("b"))), lambda n: n >= 1
    )
    await api.stop_worker()

    run = (await api.http.get(f"/runs/{created['run_id']}")).json()
    assert run["status"] == "running"
    assert [(s["id"], s["status"]) for s in run["steps"]] == [("a", "completed"), ("b", "running")]
    assert run["steps"][0]["output"] == "a-out"
    await api.env.client.get_workflow_handle(created["run_id"]).terminate("test over")
    terminated = await wait_for_run(api, created["run_id"], "terminated")
    assert terminated["steps"][0]["output"] == "a-out"


async def test_restarting_the_api_loses_no_run(api: ApiStack, stub_llm: StubLLM) -> None:
    workflow_id = await create_workflow(api)
    created = await start(api, workflow_id, inputs={"topic": "cats"})
    await wait_for_run(api, created["run_id"], "completed")
    await api.restart_api()
    run = (await api.http.get(f"/runs/{created['run_id']}")).json()
    assert run["status"] == "completed"
    assert run["workflow_id"] == workflow_id


async def test_runs_started_between_pages_neither_repeat_nor_hide_a_run(api: ApiStack) -> None:
    workflow_id = await create_workflow(api, {**TOPIC_SPEC, "steps": [task("a")]})
    older = [(await start(api, workflow_id, inputs={"topic": str(n)}))["run_id"] for n in range(5)]
    await eventually(lambda: listed_runs(api, workflow_id=workflow_id), lambda i: len(i) == 5)

    async def page(token: str | None = None) -> dict[str, Any]:
        params = {"workflow_id": workflow_id, "limit": 2, "next_page_token": token or ""}
        response = await api.http.get("/runs", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    first = await page()
    newer = [(await start(api, workflow_id, inputs={"topic": str(n)}))["run_id"] for n in range(3)]
    await eventually(lambda: listed_runs(api, workflow_id=workflow_id), lambda i: len(i) == 8)
    seen = [item["run_id"] for item in first["items"]]
    token = first["next_page_token"]
    while token:
        following = await page(token)
        seen += [item["run_id"] for item in following["items"]]
        token = following["next_page_token"]
    assert seen == older[::-1]  # newest first, each once, none of the newer runs
    assert [i["run_id"] for i in await listed_runs(api, workflow_id=workflow_id)] == (
        newer[::-1] + older[::-1]
    )
