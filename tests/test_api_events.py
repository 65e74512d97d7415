"""Live run updates over server-sent events, the approvals inbox, and the app at /."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_stack import ApiServer, ApiStack, TcpProxy, free_port
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run

GATED: dict[str, Any] = {
    "agents": [agent()],
    "steps": [
        task("draft"),
        {"id": "review", "type": "approval", "after": ["draft"], "message": "Ship the draft?"},
        task("publish", after=["review"]),
    ],
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def read_events(response: httpx.Response) -> Any:
    """Yield (event, data) pairs from an SSE response; comments are yielded as (None, text)."""
    event: str | None = None
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield None, line
        elif line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: "))


async def test_events_stream_a_snapshot_then_each_change_until_the_run_closes(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("publish"), Reply("published", delay=0.5))
    run_id = (await start(api, await create_workflow(api, GATED)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")

    seen: list[tuple[str | None, Any]] = []
    async with api.http.stream("GET", f"/runs/{run_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event, data in read_events(response):
            seen.append((event, data))
            if event == "snapshot":
                assert data["status"] == "waiting_for_approval"
                decided = await api.http.post(
                    f"/runs/{run_id}/steps/review/decision", json={"decision": "approve"}
                )
                assert decided.status_code == 200
    kinds = [event for event, _ in seen]
    assert kinds[0] == "snapshot"
    step_updates = {(data["id"], data["status"]) for event, data in seen if event == "step"}
    assert ("review", "approved") in step_updates
    assert ("publish", "completed") in step_updates
    runs = [data["status"] for event, data in seen if event == "run"]
    assert runs[-1] == "completed"  # and then the stream ended


async def test_events_end_with_an_error_when_temporal_stops_answering(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    run_id = (await start(api, await create_workflow(api, GATED)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    # A second API reaches Temporal through a relay the test cuts once the stream is open.
    proxy = TcpProxy(api.settings.temporal_address)
    await proxy.start()
    server = ApiServer(
        api.settings.model_copy(
            update={"TEMPORAL_ADDRESS": proxy.address, "KASAL_PORT": free_port()}
        )
    )
    await server.start()
    seen: list[tuple[str, Any]] = []
    try:
        async with (
            httpx.AsyncClient(
                base_url=f"{server.url}/api/v1", timeout=60, headers=api.http.headers
            ) as http,
            asyncio.timeout(60),  # before the fix the stream stayed open, sending keep-alives
            http.stream("GET", f"/runs/{run_id}/events") as response,
        ):
            async for event, data in read_events(response):
                if event is not None:
                    seen.append((event, data))
                if event == "snapshot":
                    await proxy.cut()
    finally:
        await server.stop()
    assert [event for event, _ in seen] == ["snapshot", "error"]
    assert seen[1][1]["run_id"] == run_id
    assert seen[1][1]["message"].startswith(f"lost track of run {run_id}: ")
    await api.env.client.get_workflow_handle(run_id).terminate("test over")


async def test_events_for_an_unknown_run_are_404(api: ApiStack) -> None:
    assert (await api.http.get("/runs/run-nope/events")).status_code == 404


async def test_the_approvals_inbox_lists_every_waiting_gate(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    workflow_id = await create_workflow(api, GATED)
    first = (await start(api, workflow_id))["run_id"]
    second = (await start(api, workflow_id))["run_id"]
    for run_id in (first, second):
        await wait_for_run(api, run_id, "waiting_for_approval")

    async def inbox() -> list[dict[str, Any]]:
        return list((await api.http.get("/approvals")).json()["items"])

    items = await eventually(inbox, lambda found: len(found) == 2)
    assert {i["run_id"] for i in items} == {first, second}
    item = items[0]
    assert (item["step_id"], item["message"], item["round"]) == ("review", "Ship the draft?", 1)
    assert item["workflow_name"] == "brief"
    assert item["waiting_since"] < item["deadline"]

    await api.http.post(f"/runs/{first}/steps/review/decision", json={"decision": "reject"})
    remaining = await eventually(inbox, lambda found: len(found) == 1)
    assert remaining[0]["run_id"] == second
    await api.env.client.get_workflow_handle(second).terminate("test over")


async def test_the_approvals_inbox_pages_until_every_gate_is_seen(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    workflow_id = await create_workflow(api, GATED)
    run_ids = [(await start(api, workflow_id))["run_id"] for _ in range(3)]
    for run_id in run_ids:
        await wait_for_run(api, run_id, "waiting_for_approval")

    async def every_page() -> list[list[str]]:
        pages: list[list[str]] = []
        token: str | None = None
        while True:
            params = {"limit": 1, **({"page_token": token} if token else {})}
            response = await api.http.get("/approvals", params=params)
            assert response.status_code == 200, response.text
            pages.append([item["run_id"] for item in response.json()["items"]])
            token = response.json()["next_page_token"]
            if token is None:
                return pages

    def mine(found: list[list[str]]) -> list[str]:
        # Other tests' runs share the Temporal server; only this test's are counted.
        return [run_id for page in found for run_id in page if run_id in run_ids]

    pages = await eventually(every_page, lambda found: len(mine(found)) == 3)
    assert mine(pages) == run_ids[::-1]  # newest run first, each once
    assert all(len(page) == 1 for page in pages)
    unpaged = (await api.http.get("/approvals")).json()
    assert set(run_ids) <= {item["run_id"] for item in unpaged["items"]}
    assert unpaged["next_page_token"] is None
    assert (await api.http.get("/approvals", params={"page_token": "forged"})).status_code == 400
    for run_id in run_ids:
        await api.env.client.get_workflow_handle(run_id).terminate("test over")


async def test_the_api_serves_the_built_app_at_the_root(api: ApiStack, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>Kasal</title>")
    server = ApiServer(
        api.settings.model_copy(update={"KASAL_FRONTEND_DIR": dist, "KASAL_PORT": free_port()})
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=api.http.headers) as http:
            page = await http.get("/")
            health = await http.get("/healthz")
            api_root = await http.get("/api/v1/workflows")
    finally:
        await server.stop()
    assert page.status_code == 200
    assert "<title>Kasal</title>" in page.text
    assert health.status_code == 200
    assert api_root.json()["total"] == 0


async def test_app_links_by_path_redirect_to_the_apps_hash_routes(
    api: ApiStack, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>Kasal</title>")
    (dist / "assets" / "app.js").write_text("console.log('kasal')")
    server = ApiServer(
        api.settings.model_copy(update={"KASAL_FRONTEND_DIR": dist, "KASAL_PORT": free_port()})
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=api.http.headers) as http:
            redirects = {
                path: await http.get(path)
                for path in (
                    "/runs/run-1f2e",
                    "/runs?workflow_id=w-1&status=completed",
                    "/workflows",
                    "/workflows/new",
                    "/approvals",
                    "/runs/run%20with%20space",
                )
            }
            opened = await http.get("/runs/run-1f2e", follow_redirects=True)
            untouched = {
                path: await http.get(path)
                for path in (
                    "/api/v1/runs/run-nope",
                    "/api/v1/workflows",
                    "/docs",
                    "/openapi.json",
                    "/healthz",
                    "/assets/app.js",
                )
            }
    finally:
        await server.stop()
    assert {path: (r.status_code, r.headers["location"]) for path, r in redirects.items()} == {
        "/runs/run-1f2e": (307, "/#/runs/run-1f2e"),
        "/runs?workflow_id=w-1&status=completed": (307, "/#/runs?workflow_id=w-1&status=completed"),
        "/workflows": (307, "/#/workflows"),
        "/workflows/new": (307, "/#/workflows/new"),
        "/approvals": (307, "/#/approvals"),
        "/runs/run%20with%20space": (307, "/#/runs/run%20with%20space"),
    }
    assert (opened.status_code, opened.url.fragment) == (200, "/runs/run-1f2e")
    assert "<title>Kasal</title>" in opened.text
    assert {path: r.status_code for path, r in untouched.items()} == {
        "/api/v1/runs/run-nope": 404,
        "/api/v1/workflows": 200,
        "/docs": 200,
        "/openapi.json": 200,
        "/healthz": 200,
        "/assets/app.js": 200,
    }
    assert untouched["/api/v1/runs/run-nope"].json() == {"detail": "no run run-nope"}
    assert "/runs/{run_id}" not in untouched["/openapi.json"].json()["paths"]


async def test_the_calls_of_a_running_step_stream_as_they_start_and_finish(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("a"),
        Reply('Thought: Count.\nAction: calculate\nAction Input: {"expression": "6*7"}', delay=1),
        Reply("Thought: Done.\nFinal Answer: 42", delay=1),
    )
    spec = {"agents": [agent(tools=["calculate"])], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]

    calls: list[dict[str, Any]] = []
    order: list[str] = []
    async with api.http.stream("GET", f"/runs/{run_id}/events") as response:
        async for event, data in read_events(response):
            if event == "call":
                calls.append(data)
                order.append(f"call {data['kind']}")
            elif event == "step" and data["status"] == "completed":
                order.append("step completed")
            elif event == "run" and data["status"] == "completed":
                break

    tool = next(c for c in calls if c["kind"] == "tool")
    assert tool["name"] == "calculate" and tool["step_id"] == "a"
    assert tool["arguments"] == {"expression": "6*7"} and tool["result_preview"] == "42"
    assert [c["kind"] for c in calls][-2:] == ["tool", "llm"]  # in the order they were made
    assert order.index("step completed") > order.index("call tool")
