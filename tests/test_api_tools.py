"""The tool catalogue and custom HTTP tools over HTTP, on SQLite and on Postgres: secret
headers write-only and encrypted at rest, every problem of a definition located, and a
run's plan pinning its agents' tools without a secret."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, insert, text

from db.base import utcnow
from db.models import ToolRow
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from db.tool_secrets import ToolSecretStore
from tests.api_stack import ApiStack
from tests.helpers import agent, task
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan import Plan
from workflows.tools import BUILTIN_TOOLS

SECRET = "tok-weather-SECRET-91c3e0"
CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "units": {"enum": ["metric", "imperial"]}},
    "required": ["city"],
}


def weather(**fields: Any) -> dict[str, Any]:
    return {
        "name": "weather",
        "kind": "http",
        "description": "The weather in a city today",
        "method": "GET",
        "url_template": "https://weather.example.test/v1/{city}",
        "headers": {"Accept": "application/json"},
        "args_schema": CITY_SCHEMA,
        "timeout_seconds": 5,
        "secret_headers": {"X-Api-Key": SECRET},
        **fields,
    }


async def create_tool(api: ApiStack, **fields: Any) -> dict[str, Any]:
    response = await api.http.post("/tools", json=weather(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def stored(api: ApiStack, query: str) -> Any:
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(query))).scalar_one()
    finally:
        await engine.dispose()


async def test_an_http_tool_is_created_read_versioned_and_deleted(api: ApiStack) -> None:
    created = await create_tool(api)
    assert SECRET not in str(created)
    assert {k: v for k, v in created.items() if k not in ("created_at", "updated_at")} == {
        "name": "weather",
        "kind": "http",
        "version": 1,
        "description": "The weather in a city today",
        "method": "GET",
        "url_template": "https://weather.example.test/v1/{city}",
        "headers": {"Accept": "application/json"},
        "args_schema": CITY_SCHEMA,
        "timeout_seconds": 5.0,
        "idempotent": True,  # a GET
        "secret_header_names": ["X-Api-Key"],
    }
    read = await api.http.get("/tools/weather")
    assert read.json() == created

    # A PUT is the whole definition again; omitted secret headers are kept.
    body = weather(method="POST", description="Report the weather")
    del body["name"], body["secret_headers"]
    updated = await api.http.put("/tools/weather", json=body)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["version"], updated.json()["method"]) == (2, "POST")
    assert updated.json()["idempotent"] is False  # a POST, unless it says otherwise
    assert updated.json()["secret_header_names"] == ["X-Api-Key"]
    said = await api.http.put("/tools/weather", json={**body, "idempotent": True})
    assert (said.json()["version"], said.json()["idempotent"]) == (3, True)
    cleared = await api.http.put("/tools/weather", json={**body, "secret_headers": None})
    assert (cleared.json()["version"], cleared.json()["secret_header_names"]) == (4, [])

    assert (await api.http.delete("/tools/weather")).status_code == 204
    assert (await api.http.get("/tools/weather")).status_code == 404
    assert (await api.http.put("/tools/weather", json=body)).status_code == 404
    assert (await api.http.delete("/tools/weather")).status_code == 404


async def test_secret_headers_are_write_only_and_encrypted_at_rest(api: ApiStack) -> None:
    await create_tool(api)
    body = weather(headers={}, secret_headers={"X-Api-Key": SECRET, "X-Other": SECRET + "2"})
    del body["name"]
    put = await api.http.put("/tools/weather", json=body)
    assert put.json()["secret_header_names"] == ["X-Api-Key", "X-Other"]
    responses = [
        put,
        await api.http.get("/tools/weather"),
        await api.http.get("/tools"),
        await api.http.get("/tools", params={"kind": "http"}),
    ]
    for response in responses:
        assert response.status_code == 200
        assert SECRET not in response.text
    ciphertext = await stored(api, "SELECT secret_headers_encrypted FROM tools")
    spec = await stored(api, "SELECT spec FROM tools")
    assert ciphertext and SECRET not in ciphertext
    assert SECRET not in str(spec)


async def test_every_problem_of_a_tool_is_a_located_422(api: ApiStack) -> None:
    response = await api.http.post(
        "/tools",
        json=weather(
            name="calculate",
            method="FETCH",
            args_schema={"type": "object", "properties": {"city": {"type": "strin"}}},
            url_template="https://weather.example.test/{city}/{day}",
            headers={"X-Api-Key": "plain"},
            timeout_seconds=0,
        ),
    )
    assert response.status_code == 422
    errors = {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}
    assert set(errors) == {
        ("body", "name"),
        ("body", "method"),
        ("body", "args_schema"),
        ("body", "timeout_seconds"),
        ("body", "secret_headers"),
    }
    assert "built-in" in errors[("body", "name")]
    assert "properties.city.type" in errors[("body", "args_schema")]
    assert SECRET not in response.text

    # The URL's variables are checked against a schema that is valid.
    variables = await api.http.post(
        "/tools", json=weather(url_template="https://weather.example.test/{city}/{day}")
    )
    assert [(e["loc"], "{day}" in e["msg"]) for e in variables.json()["detail"]] == [
        (["body", "url_template"], True)
    ]
    for url_template in ("ftp://example.test/{city}", "https://example.test/{city", "/{city}"):
        bad = await api.http.post("/tools", json=weather(url_template=url_template))
        assert [e["loc"] for e in bad.json()["detail"]] == [["body", "url_template"]]
    not_an_object = await api.http.post("/tools", json=weather(args_schema={"type": "string"}))
    assert [e["loc"] for e in not_an_object.json()["detail"]] == [["body", "args_schema"]]
    for name in ("has space", "x" * 65, ""):
        named = await api.http.post("/tools", json=weather(name=name))
        assert [e["loc"] for e in named.json()["detail"]] == [["body", "name"]]
    misspelt = await api.http.post("/tools", json={**weather(), "secret_header": {"A": "b"}})
    assert [e["loc"] for e in misspelt.json()["detail"]] == [["body", "secret_header"]]
    injected = await api.http.post("/tools", json=weather(headers={"X-A": "a\r\nX-B: b"}))
    assert [e["loc"][:2] for e in injected.json()["detail"]] == [["body", "headers"]]


async def test_a_plain_header_cannot_shadow_a_kept_secret_one(api: ApiStack) -> None:
    await create_tool(api)
    body = weather(headers={"x-api-key": "plain"})
    del body["name"], body["secret_headers"]
    response = await api.http.put("/tools/weather", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "headers"]
    assert (await api.http.get("/tools/weather")).json()["version"] == 1


async def test_a_taken_name_is_409_even_when_creates_race(api: ApiStack) -> None:
    await create_tool(api)
    again = await api.http.post("/tools", json=weather())
    assert again.status_code == 409
    assert again.json() == {"detail": "an HTTP tool named 'weather' already exists"}
    responses = await asyncio.gather(
        *(api.http.post("/tools", json=weather(name="raced")) for _ in range(6))
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 5, [r.text for r in responses]


async def test_a_create_that_loses_the_race_at_the_database_is_409(api: ApiStack) -> None:
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.begin() as rival:
            # Written, not committed: the API's check cannot see it, and its insert waits
            # on the rival's lock, then meets the primary key.
            now = utcnow()
            await rival.execute(
                insert(ToolRow).values(
                    name="weather",
                    version=1,
                    description="the rival's",
                    spec={"url_template": "https://rival.test/", "args_schema": CITY_SCHEMA},
                    created_at=now,
                    updated_at=now,
                )
            )
            request = asyncio.create_task(api.http.post("/tools", json=weather()))
            await asyncio.sleep(1)
            assert not request.done()
        response = await request
    finally:
        await engine.dispose()
    assert response.status_code == 409, response.text


async def test_concurrent_updates_each_get_their_own_version(api: ApiStack) -> None:
    await create_tool(api)
    bodies = []
    for index in range(4):
        body = weather(description=f"update {index}")
        del body["name"]
        bodies.append(body)
    responses = await asyncio.gather(*(api.http.put("/tools/weather", json=b) for b in bodies))
    won = [r.json()["version"] for r in responses if r.status_code == 200]
    assert {r.status_code for r in responses} <= {200, 409}
    assert sorted(won) == list(range(2, 2 + len(won)))
    assert (await api.http.get("/tools/weather")).json()["version"] == 1 + len(won)


async def test_the_catalogue_lists_builtins_and_http_tools_by_kind(api: ApiStack) -> None:
    await create_tool(api)
    everything = await api.http.get("/tools")
    assert everything.status_code == 200
    items = everything.json()["items"]
    builtin_names = [tool.name for tool in BUILTIN_TOOLS]
    assert [i["name"] for i in items] == [*builtin_names, "weather"]
    assert {i["kind"] for i in items} == {"builtin", "http"}
    assert items[-1] == {
        "name": "weather",
        "kind": "http",
        "description": "The weather in a city today",
        "args_schema": CITY_SCHEMA,
        "idempotent": True,
    }
    builtins = (await api.http.get("/tools", params={"kind": "builtin"})).json()["items"]
    assert [i["name"] for i in builtins] == builtin_names
    assert builtins[0]["args_schema"]["type"] == "object"
    http = (await api.http.get("/tools", params={"kind": "http"})).json()["items"]
    assert [i["name"] for i in http] == ["weather"]
    assert (await api.http.get("/tools", params={"kind": "mcp"})).json()["items"] == []
    assert (await api.http.get("/tools", params={"kind": "other"})).status_code == 422


async def test_an_unknown_tool_is_located_with_every_other_error(api: ApiStack) -> None:
    await create_tool(api)
    spec = {"agents": [agent(llm="nope", tools=["weather", "wether"])], "steps": [task("a")]}
    response = await api.http.post("/workflows", json={"name": "brief", "spec": spec})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [e["loc"] for e in detail] == [["agents", 0, "llm"], ["agents", 0, "tools", 1]]
    assert "unknown tool 'wether'" in detail[1]["msg"]
    assert {e["type"] for e in detail} == {"compile_error"}
    validated = await api.http.post("/workflows/validate", json={"spec": spec})
    assert validated.json() == response.json()


async def test_a_tool_deleted_since_saving_is_422_at_start(api: ApiStack) -> None:
    await create_tool(api)
    spec = {"agents": [agent(tools=["weather"])], "steps": [task("a")]}
    workflow_id = await create_workflow(api, spec)
    await api.http.delete("/tools/weather")
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["agents", 0, "tools", 0]


GATED_TOOLS: dict[str, Any] = {
    "agents": [agent(tools=["calculate", "weather"])],
    "steps": [
        # The gate holds the run before any step: the test reads its plan, then ends it.
        {"id": "review", "type": "approval", "after": [], "message": "Go?"},
        task("a", after=["review"]),
    ],
}


async def started_plan(api: ApiStack, run_id: str) -> tuple[Plan, str]:
    """The plan the run was started with, from its first event, and its whole history."""
    handle = api.env.client.get_workflow_handle(run_id)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [data] = await api.env.client.data_converter.decode(
        started.input.payloads, [AgentWorkflowV2Input]
    )
    assert isinstance(data, AgentWorkflowV2Input)
    return data.plan, history.to_json()


async def test_a_run_pins_a_builtin_and_an_http_tool_without_secrets(api: ApiStack) -> None:
    await create_tool(api)
    workflow_id = await create_workflow(api, GATED_TOOLS)
    # A later version of the tool changes nothing for the run started before it.
    created = await start(api, workflow_id)
    body = weather(url_template="https://elsewhere.example.test/{city}")
    del body["name"]
    assert (await api.http.put("/tools/weather", json=body)).json()["version"] == 2
    await wait_for_run(api, created["run_id"], "waiting_for_approval")
    plan, history = await started_plan(api, created["run_id"])
    try:
        assert list(plan.tools) == ["calculate", "weather"]
        assert plan.tools["calculate"].kind == "builtin"
        pinned = plan.tools["weather"]
        assert (pinned.kind, pinned.version, pinned.idempotent) == ("http", 1, True)
        assert pinned.args_schema == CITY_SCHEMA
        assert pinned.http is not None
        assert pinned.http.url_template == "https://weather.example.test/v1/{city}"
        assert pinned.http.headers == {"Accept": "application/json"}
        assert pinned.http.secret_header_names == ["X-Api-Key"]
        assert SECRET not in history
        assert SECRET not in (await api.http.get(f"/runs/{created['run_id']}")).text
    finally:
        await api.env.client.get_workflow_handle(created["run_id"]).terminate("test over")


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL every engine in this process runs inside the block, the API's included."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_a_launch_reads_the_user_tools_only_when_an_agent_may_name_one(
    api: ApiStack,
) -> None:
    """Reading the workspace's tools and MCP servers was two of a launch's six queries;
    a definition whose agents name only built-ins skips them, and one naming a user
    tool still reads (and pins) it."""
    await create_tool(api)
    only_builtins = await create_workflow(
        api, GATED_TOOLS | {"agents": [agent(tools=["calculate"])]}, name="builtins"
    )
    naming_a_user_tool = await create_workflow(api, GATED_TOOLS, name="weather")
    reads_user_tools = re.compile(r"\bFROM (tools|mcp_servers)\b")
    started = []
    for workflow_id, reads_them in ((only_builtins, False), (naming_a_user_tool, True)):
        with statements_run() as statements:
            started.append(await start(api, workflow_id))
        assert any("FROM workflows" in statement for statement in statements)
        assert any(map(reads_user_tools.search, statements)) is reads_them
    for created in started:
        await api.env.client.get_workflow_handle(created["run_id"]).terminate("test over")


async def test_the_worker_reads_secret_headers_decrypted_by_name(api: ApiStack) -> None:
    await create_tool(api)
    created = await api.http.post(
        "/mcp-servers",
        json={
            "name": "orders",
            "transport": "sse",
            "url": "http://orders.example.test/sse",
            "secret_headers": {"Authorization": f"Bearer {SECRET}"},
        },
    )
    assert created.status_code == 201, created.text
    secrets = load_secret_box(
        api.settings.KASAL_SECRET_KEY, api.settings.KASAL_DATA_DIR, create=False
    )
    engine = create_engine(api.settings.database_url)
    try:
        store = ToolSecretStore(session_factory(engine), secrets)
        assert await store.http_tool_headers("weather", "default") == {"X-Api-Key": SECRET}
        assert await store.mcp_server_headers("orders", "default") == {
            "Authorization": f"Bearer {SECRET}"
        }
        assert await store.http_tool_headers("nope", "default") == {}
        assert await store.mcp_server_headers("nope", "default") == {}
        body = weather(secret_headers=None)
        del body["name"]
        await api.http.put("/tools/weather", json=body)
        assert await store.http_tool_headers("weather", "default") == {}
    finally:
        await engine.dispose()
