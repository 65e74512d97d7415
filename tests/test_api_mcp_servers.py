"""MCP servers over HTTP, on SQLite and on Postgres: definitions with write-only secret
headers, transport rules located, their tools in the catalogue and in a run's plan, and a
test of the connection run by a worker."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from db.models import McpServerRow
from db.session import create_engine
from tests.api_stack import ApiStack
from tests.conftest import free_port
from tests.helpers import agent, task
from tests.mcp_servers import McpHttpServer
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.test_api_tools import started_plan, stored

SECRET = "mcp-bearer-SECRET-5e02ab"
LOOKUP_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}


def orders(**fields: Any) -> dict[str, Any]:
    return {
        "name": "orders",
        "transport": "streamable-http",
        "url": "http://orders.example.test/mcp",
        "headers": {"X-Team": "fulfilment"},
        "secret_headers": {"Authorization": f"Bearer {SECRET}"},
        "timeout_seconds": 5,
        **fields,
    }


async def create_server(api: ApiStack, **fields: Any) -> dict[str, Any]:
    response = await api.http.post("/mcp-servers", json=orders(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def as_if_tested(api: ApiStack, name: str, tools: list[dict[str, Any]]) -> None:
    """The tools a successful test would have stored (the probe runs on a worker)."""
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(McpServerRow).where(McpServerRow.name == name).values(tools_cache=tools)
            )
    finally:
        await engine.dispose()


LOOKUP = {
    "name": "lookup_order",
    "kind": "mcp",
    "description": "Find an order by its id",
    "args_schema": LOOKUP_SCHEMA,
    "idempotent": True,
}
CANCEL = {
    "name": "cancel_order",
    "kind": "mcp",
    "description": "Cancel an order",
    "args_schema": LOOKUP_SCHEMA,
    "idempotent": False,
}


async def test_a_server_is_created_read_versioned_and_deleted(api: ApiStack) -> None:
    created = await create_server(api)
    assert SECRET not in str(created)
    assert {k: v for k, v in created.items() if k not in ("created_at", "updated_at")} == {
        "name": "orders",
        "version": 1,
        "transport": "streamable-http",
        "url": "http://orders.example.test/mcp",
        "command": None,
        "headers": {"X-Team": "fulfilment"},
        "secret_header_names": ["Authorization"],
        "timeout_seconds": 5.0,
        "tools": None,  # never tested
    }
    stdio = await create_server(
        api, name="files", transport="stdio", url=None, command=["python", "-m", "files"]
    )
    assert (stdio["transport"], stdio["command"], stdio["url"]) == (
        "stdio",
        ["python", "-m", "files"],
        None,
    )
    listed = await api.http.get("/mcp-servers")
    assert [s["name"] for s in listed.json()] == ["files", "orders"]
    assert (await api.http.get("/mcp-servers/orders")).json() == created

    await as_if_tested(api, "orders", [LOOKUP])
    body = orders(timeout_seconds=9)
    del body["name"], body["secret_headers"]
    updated = await api.http.put("/mcp-servers/orders", json=body)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["version"], updated.json()["timeout_seconds"]) == (2, 9.0)
    assert updated.json()["secret_header_names"] == ["Authorization"]  # kept
    assert [t["name"] for t in updated.json()["tools"]] == ["orders.lookup_order"]
    moved = await api.http.put("/mcp-servers/orders", json={**body, "url": "http://b.test/mcp"})
    assert (moved.json()["version"], moved.json()["tools"]) == (3, None)  # elsewhere now

    assert (await api.http.delete("/mcp-servers/orders")).status_code == 204
    assert (await api.http.get("/mcp-servers/orders")).status_code == 404
    assert (await api.http.put("/mcp-servers/orders", json=body)).status_code == 404
    assert (await api.http.delete("/mcp-servers/orders")).status_code == 404
    assert (await api.http.post("/mcp-servers/orders/test")).status_code == 404


async def test_secret_headers_are_write_only_and_encrypted_at_rest(api: ApiStack) -> None:
    created = await create_server(api)
    responses = [
        await api.http.get("/mcp-servers"),
        await api.http.get("/mcp-servers/orders"),
        await api.http.get("/tools"),
    ]
    assert SECRET not in str(created)
    for response in responses:
        assert response.status_code == 200
        assert SECRET not in response.text
    ciphertext = await stored(api, "SELECT secret_headers_encrypted FROM mcp_servers")
    assert ciphertext and SECRET not in ciphertext
    body = orders(secret_headers=None)
    del body["name"]
    cleared = await api.http.put("/mcp-servers/orders", json=body)
    assert cleared.json()["secret_header_names"] == []
    assert await stored(api, "SELECT secret_headers_encrypted FROM mcp_servers") is None


@pytest.mark.parametrize(
    ("fields", "locs"),
    [
        ({"transport": "sse", "url": None}, [["body", "url"]]),
        ({"url": "ftp://orders.example.test"}, [["body", "url"]]),
        ({"command": ["orders-mcp"]}, [["body", "command"]]),
        ({"transport": "stdio"}, [["body", "url"], ["body", "command"]]),
        ({"transport": "stdio", "url": None, "command": []}, [["body", "command"]]),
        ({"transport": "stdio", "url": None, "command": [""]}, [["body", "command", 0]]),
        ({"transport": "websocket"}, [["body", "transport"]]),
        ({"name": "orders__v2"}, [["body", "name"]]),
        ({"name": "orders.v2"}, [["body", "name"]]),
        ({"timeout_seconds": 601}, [["body", "timeout_seconds"]]),
        ({"headers": {"Authorization": "plain"}}, [["body", "secret_headers"]]),
    ],
)
async def test_bad_definitions_are_located_422s(
    api: ApiStack, fields: dict[str, Any], locs: list[list[str | int]]
) -> None:
    response = await api.http.post("/mcp-servers", json=orders(**fields))
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == locs
    assert SECRET not in response.text


async def test_a_taken_name_is_409(api: ApiStack) -> None:
    await create_server(api)
    again = await api.http.post("/mcp-servers", json=orders(url="http://other.test/mcp"))
    assert again.status_code == 409
    assert again.json() == {"detail": "an MCP server named 'orders' already exists"}


async def test_a_tested_servers_tools_are_in_the_catalogue(api: ApiStack) -> None:
    await create_server(api)
    await create_server(api, name="untested", url="http://untested.test/mcp")
    await as_if_tested(api, "orders", [LOOKUP, CANCEL])
    mcp = (await api.http.get("/tools", params={"kind": "mcp"})).json()["items"]
    assert mcp == [
        {**LOOKUP, "name": "orders.lookup_order"},
        {**CANCEL, "name": "orders.cancel_order"},
    ]
    everything = (await api.http.get("/tools")).json()["items"]
    assert [i["name"] for i in everything][-2:] == ["orders.lookup_order", "orders.cancel_order"]
    assert (await api.http.get("/tools", params={"kind": "http"})).json()["items"] == []


async def test_mcp_tool_names_resolve_against_the_last_test(api: ApiStack) -> None:
    await create_server(api)
    await create_server(api, name="untested", url="http://untested.test/mcp")
    await as_if_tested(api, "orders", [LOOKUP])
    names = ["orders.lookup_order", "orders.refund", "orders.*", "untested.anything", "none.*"]
    spec = {"agents": [agent(tools=names)], "steps": [task("a")]}
    response = await api.http.post("/workflows/validate", json={"spec": spec})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["agents", 0, "tools", 1],
        ["agents", 0, "tools", 4],
    ]


async def test_a_run_pins_mcp_tools_without_secrets(api: ApiStack) -> None:
    await create_server(api)
    await create_server(api, name="untested", url="http://untested.test/mcp")
    await as_if_tested(api, "orders", [LOOKUP])
    spec = {
        "agents": [agent(tools=["orders.lookup_order", "orders.*", "untested.ping"])],
        "steps": [
            {"id": "review", "type": "approval", "after": [], "message": "Go?"},
            task("a", after=["review"]),
        ],
    }
    workflow_id = await create_workflow(api, spec)
    created = await start(api, workflow_id)
    await wait_for_run(api, created["run_id"], "waiting_for_approval")
    plan, history = await started_plan(api, created["run_id"])
    try:
        lookup, every, ping = (plan.tools[n] for n in spec["agents"][0]["tools"])
        assert (lookup.kind, lookup.mcp_tool, lookup.args_schema) == (
            "mcp",
            "lookup_order",
            LOOKUP_SCHEMA,
        )
        assert lookup.description == "Find an order by its id"
        assert (every.name, every.mcp_tool) == ("orders.*", None)
        assert (ping.mcp_tool, ping.args_schema) == ("ping", {})
        assert lookup.mcp is not None and ping.mcp is not None
        assert lookup.mcp == every.mcp
        assert (lookup.mcp.url, lookup.mcp.version) == ("http://orders.example.test/mcp", 1)
        assert lookup.mcp.headers == {"X-Team": "fulfilment"}
        assert lookup.mcp.secret_header_names == ["Authorization"]
        assert ping.mcp.name == "untested"
        assert SECRET not in history
    finally:
        await api.env.client.get_workflow_handle(created["run_id"]).terminate("test over")


async def test_a_server_that_does_not_answer_is_ok_false_with_why(api: ApiStack) -> None:
    # Nothing listens on this port: the worker's probe cannot connect.
    url = f"http://127.0.0.1:{free_port()}/mcp"
    await create_server(api, url=url, timeout_seconds=2)
    response = await api.http.post("/mcp-servers/orders/test")
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["ok"], result["tools"]) == (False, [])
    assert result["error"]
    assert SECRET not in response.text
    assert (await api.http.get("/mcp-servers/orders")).json()["tools"] is None


async def test_a_test_lists_a_real_servers_tools_with_its_secret_header(
    api: ApiStack, mcp_http_server: McpHttpServer
) -> None:
    # diag refuses a request without its X-Api-Key: the worker resolves the secret.
    await create_server(
        api,
        name="diag",
        url=mcp_http_server.diag_url,
        headers={},
        secret_headers={"X-Api-Key": mcp_http_server.api_key},
        timeout_seconds=10,
    )
    response = await api.http.post("/mcp-servers/diag/test")
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["ok"], result["error"]) == (True, None), result
    names = [tool["name"] for tool in result["tools"]]
    assert {"diag.echo_header", "diag.slow", "diag.big", "diag.fail"} <= set(names)
    assert mcp_http_server.api_key not in response.text
    server = (await api.http.get("/mcp-servers/diag")).json()
    assert [tool["name"] for tool in server["tools"]] == names
    catalogue = (await api.http.get("/tools", params={"kind": "mcp"})).json()["items"]
    assert [tool["name"] for tool in catalogue] == names
    echo = next(tool for tool in catalogue if tool["name"] == "diag.echo_header")
    assert echo["args_schema"]["properties"]["name"]["type"] == "string"

    # Without the key the server refuses: ok false, and the tools of the last success stay.
    body = orders(url=mcp_http_server.diag_url, headers={}, secret_headers=None)
    del body["name"]
    assert (await api.http.put("/mcp-servers/diag", json=body)).status_code == 200
    refused = (await api.http.post("/mcp-servers/diag/test")).json()
    assert (refused["ok"], refused["tools"]) == (False, [])
    assert refused["error"]
    kept = (await api.http.get("/mcp-servers/diag")).json()["tools"]
    assert [tool["name"] for tool in kept] == names


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about Temporal only
async def test_a_test_no_worker_answers_is_503(api: ApiStack) -> None:
    await create_server(api, timeout_seconds=1)
    await api.stop_worker()
    response = await api.http.post("/mcp-servers/orders/test")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "no worker answered the test of MCP server 'orders' within 11 s"
    }
