"""An agent with a custom HTTP tool, an MCP server's tool and a built-in tool, defined
through the API and run on a real worker: every call is seen at its server, shows in the
API's transcript, and no secret reaches Temporal's history, a log line, the transcript
or any API response. And the journal's numbers hold after a worker is SIGKILLed mid-step."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.webhook_signing import verify
from tests.api_stack import ApiStack
from tests.conftest import STUB_API_KEY, STUB_MODEL
from tests.helpers import agent, eventually, marker, task
from tests.mcp_servers import McpHttpServer
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import start, wait_for_run
from tests.tool_server import ToolServer
from tests.webhook_receiver import WebhookReceiver
from tests.worker_process import WorkerProcess

WEATHER_KEY = "wk-" + uuid.uuid4().hex  # the HTTP tools' secret header
ORDERS_KEY = "ok-" + uuid.uuid4().hex  # the MCP server's
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def react(tool: str, arguments: dict[str, Any]) -> Reply:
    return Reply(f"Thought: A tool helps.\nAction: {tool}\nAction Input: {json.dumps(arguments)}")


async def define_tools(api: ApiStack, tool_server: ToolServer, mcp: McpHttpServer) -> None:
    for body in (
        {
            "name": "weather",
            "kind": "http",
            "description": "The weather in a city.",
            "method": "GET",
            "url_template": f"{tool_server.url}/weather/{{city}}",
            "args_schema": CITY,
            "secret_headers": {"X-Api-Key": WEATHER_KEY},
        },
        {
            "name": "echo_key",
            "kind": "http",
            "description": "Which key the server saw.",
            "method": "GET",
            "url_template": f"{tool_server.url}/echo-key",
            "args_schema": {"type": "object", "properties": {}},
            "secret_headers": {"X-Api-Key": WEATHER_KEY},
        },
    ):
        response = await api.http.post("/tools", json=body)
        assert response.status_code == 201, response.text
    response = await api.http.post(
        "/mcp-servers",
        json={
            "name": "orders",
            "transport": "streamable-http",
            "url": mcp.url,
            "secret_headers": {"Authorization": f"Bearer {ORDERS_KEY}"},
        },
    )
    assert response.status_code == 201, response.text
    probe = await api.http.post("/mcp-servers/orders/test")
    assert probe.json()["ok"], probe.text


def readable_history(node: Any) -> str:
    """Every string in a history's JSON, with payload bytes (base64) decoded, so that a
    secret in a payload is found as it was written."""
    if isinstance(node, dict):
        parts = [readable_history(value) for value in node.values()]
        if isinstance(node.get("data"), str):
            parts.append(base64.b64decode(node["data"]).decode(errors="replace"))
        return "\n".join(parts)
    if isinstance(node, list):
        return "\n".join(readable_history(item) for item in node)
    return str(node)


async def create(api: ApiStack, spec: dict[str, Any]) -> str:
    response = await api.http.post(
        "/workflows", json={"name": f"tools-{uuid.uuid4()}", "spec": spec}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


async def test_an_agent_uses_an_http_an_mcp_and_a_built_in_tool_and_no_secret_leaks(
    api: ApiStack,
    stub_llm: StubLLM,
    tool_server: ToolServer,
    mcp_http_server: McpHttpServer,
    webhook_receiver: WebhookReceiver,
    logs: pytest.LogCaptureFixture,
) -> None:
    await define_tools(api, tool_server, mcp_http_server)
    secret = await api.http.get("/workspaces/default/webhook-secret")
    webhook_secret = secret.json()["secret"]
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    stub_llm.script(
        marker("a"),
        react("weather", {"city": "Paris"}),
        react("orders__lookup_order", {"order_id": order_id}),
        react("calculate", {"expression": "19*3"}),
        react("echo_key", {}),
        Reply("Thought: Done.\nFinal Answer: sunny, found, 57"),
    )
    spec = {
        "agents": [agent(tools=["weather", "orders.lookup_order", "calculate", "echo_key"])],
        "steps": [task("a")],
        # Its webhooks are signed with the workspace's secret, derived in the worker.
        "notify": {"webhook_url": webhook_receiver.url},
    }
    run_id = (await start(api, await create(api, spec)))["run_id"]
    run = await wait_for_run(api, run_id, "completed", timeout=60)

    assert run["steps"][0]["output"] == "sunny, found, 57"
    assert tool_server.count("/weather/Paris") == 1
    assert tool_server.requests[0].headers["X-Api-Key"] == WEATHER_KEY  # it was sent
    assert mcp_http_server.calls("lookup_order", order_id=order_id) == 1
    transcript = await api.http.get(f"/runs/{run_id}/steps/a/transcript")
    [attempt] = transcript.json()["attempts"]
    tools = [(e["tool"], e["error"]) for e in attempt["entries"] if e["kind"] == "tool"]
    assert tools == [
        ("weather", None),
        ("orders.lookup_order", None),
        ("calculate", None),
        ("echo_key", None),
    ]
    echoed = next(e for e in attempt["entries"] if e.get("tool") == "echo_key")["output"]
    assert "[redacted]" in echoed  # the server echoed the key; the journal scrubbed it

    # No secret anywhere: Temporal's history, the logs, and every API response.
    handle = api.env.client.get_workflow_handle(run_id)
    history = readable_history(json.loads((await handle.fetch_history()).to_json()))
    readings = [
        history,
        logs.text,
        transcript.text,
        (await api.http.get(f"/runs/{run_id}")).text,
        (await api.http.get(f"/runs/{run_id}/history")).text,
        (await api.http.get("/tools")).text,
        (await api.http.get("/tools/weather")).text,
        (await api.http.get("/mcp-servers/orders")).text,
        (await api.http.get("/models")).text,
        (await api.http.get(f"/models/{STUB_MODEL}")).text,
    ]

    async def delivered() -> list[tuple[dict[str, str], bytes]]:
        return list(webhook_receiver.deliveries)

    deliveries = await eventually(delivered, bool)
    headers, body = deliveries[0]
    # Signed with the secret an admin reads for the workspace.
    assert verify(webhook_secret, headers["X-Kasal-Signature"], body)
    readings += [body.decode() for _, body in deliveries]
    assert marker("a") in history  # payloads are read decoded
    assert logs.records  # the worker's log lines, from this process, are read
    # The tools' secrets, the model's key, the workspace's webhook secret.
    for secret in (WEATHER_KEY, ORDERS_KEY, STUB_API_KEY, webhook_secret):
        for reading in readings:
            assert secret not in reading


@pytest.fixture
def worker_processes(api: ApiStack) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for process in started:
        process.stop()


async def test_after_a_sigkill_mid_step_the_retry_makes_only_the_unfinished_call(
    api: ApiStack,
    stub_llm: StubLLM,
    tool_server: ToolServer,
    mcp_http_server: McpHttpServer,
    tmp_path: Path,
    worker_processes: list[WorkerProcess],
) -> None:
    await define_tools(api, tool_server, mcp_http_server)
    await api.stop_worker()  # this test's workers live in their own processes
    stub_llm.script(
        marker("a"),
        react("weather", {"city": "Rome"}),
        Reply.timeout(),  # the second LLM call hangs: the worker dies during it
        Reply("Thought: Done.\nFinal Answer: sunny in Rome"),
    )
    spec = {"agents": [agent(tools=["weather"])], "steps": [task("a")]}
    first = WorkerProcess(api.settings, tmp_path / "worker-1.log").start()
    worker_processes.append(first)
    run_id = (await start(api, await create(api, spec)))["run_id"]

    async def calls() -> int:
        return stub_llm.call_count(marker("a"))

    await eventually(calls, lambda n: n == 2, timeout=120)
    first.kill()
    worker_processes.append(WorkerProcess(api.settings, tmp_path / "worker-2.log").start())
    run = await wait_for_run(api, run_id, "completed", timeout=120)

    assert run["steps"][0]["output"] == "sunny in Rome"
    assert tool_server.count("/weather/Rome") == 1  # the tool call is not made again
    assert stub_llm.call_count(marker("a")) == 3  # only the call in flight is made again
