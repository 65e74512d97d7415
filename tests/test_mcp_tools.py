"""MCP servers' tools on the worker: real servers (tests/mcp_orders_server.py) over
streamable HTTP, SSE and stdio, and the probe workflow on a real worker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.model_registry import StaticModelRegistry
from activities.tools.mcp import open_mcp_tools
from activities.tools.mcp_connection import (
    McpConnectError,
    McpConnectionLost,
    McpStdioDisabled,
    McpToolError,
    McpToolTimeout,
)
from activities.tools.toolbox import ToolEnvironment
from db.blobs import BlobStore
from tests.mcp_servers import MCP_TEST_API_KEY, McpHttpServer, McpStdioServer, serve_mcp_http
from worker.main import build_worker
from workflows.tools import (
    MAX_TOOL_RESULT_BYTES,
    MCP_PROBE_WORKFLOW,
    McpProbeResult,
    McpServerSpec,
    model_tool_name,
)

ROOT = Path(__file__).resolve().parent.parent
ORDERS_TOOLS = {"orders.lookup_order", "orders.cancel_order"}


def order_id() -> str:
    return f"A-{uuid.uuid4().hex[:8]}"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (dead, not yet reaped) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An address that accepts connections (into the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"


@pytest.mark.parametrize("endpoint", ["url", "json_url", "sse_url"])
async def test_http_server_lists_its_tools_and_calls_them(
    mcp_http_server: McpHttpServer, endpoint: str
) -> None:
    url = getattr(mcp_http_server, endpoint)
    transport = "sse" if endpoint == "sse_url" else "streamable-http"
    spec = McpServerSpec(name="orders", transport=transport, url=url, timeout_seconds=10)
    order = order_id()
    async with open_mcp_tools(spec, None, {}, allow_stdio=False) as handles:
        tools = {handle.info.name: handle for handle in handles}
        assert set(tools) == ORDERS_TOOLS
        lookup = tools["orders.lookup_order"]
        assert lookup.info.kind == "mcp"
        assert lookup.info.description.startswith("Look an order up")
        assert lookup.info.args_schema["required"] == ["order_id"]
        assert model_tool_name(lookup.info.name) == "orders__lookup_order"
        assert await lookup.call({"order_id": order}) == f"order {order}: shipped, total 42.00 EUR"
        assert await lookup.call({"order_id": order}) == f"order {order}: shipped, total 42.00 EUR"
    assert mcp_http_server.calls("lookup_order", order) == 2
    assert mcp_http_server.calls("cancel_order", order) == 0


async def test_a_filter_opens_one_tool(mcp_http_server: McpHttpServer) -> None:
    order = order_id()
    async with open_mcp_tools(mcp_http_server.orders_spec(), "cancel_order", {}, False) as handles:
        assert [handle.info.name for handle in handles] == ["orders.cancel_order"]
        assert await handles[0].call({"order_id": order}) == f"order {order}: cancelled"
    assert mcp_http_server.calls("cancel_order", order) == 1
    assert mcp_http_server.calls("lookup_order", order) == 0


async def test_a_filter_for_a_tool_the_server_lacks_says_what_it_offers(
    mcp_http_server: McpHttpServer,
) -> None:
    with pytest.raises(
        McpConnectError, match=r"offers no tool 'refund'.*cancel_order, lookup_order"
    ):
        async with open_mcp_tools(mcp_http_server.orders_spec(), "refund", {}, False):
            pass


async def test_secret_headers_reach_the_server(mcp_http_server: McpHttpServer) -> None:
    headers = {"X-Api-Key": MCP_TEST_API_KEY}
    spec = mcp_http_server.diag_spec(headers={"X-Plain": "visible"})
    async with open_mcp_tools(spec, "echo_header", headers, False) as (echo,):
        assert await echo.call({"name": "x-api-key"}) == f"x-api-key: {MCP_TEST_API_KEY}"
        assert await echo.call({"name": "x-plain"}) == "x-plain: visible"


async def test_a_401_says_so(mcp_http_server: McpHttpServer) -> None:
    started = time.monotonic()
    with pytest.raises(McpConnectError, match="answered 401 Unauthorized") as raised:
        async with open_mcp_tools(mcp_http_server.diag_spec(), None, {"X-Api-Key": "wrong"}, False):
            pass
    assert "wrong" not in str(raised.value)
    assert time.monotonic() - started < 5


async def test_an_error_result_is_a_tool_error(mcp_http_server: McpHttpServer) -> None:
    headers = {"X-Api-Key": MCP_TEST_API_KEY}
    async with open_mcp_tools(mcp_http_server.diag_spec(), "fail", headers, False) as (fail,):
        with pytest.raises(McpToolError, match="no such order"):
            await fail.call({"message": "no such order"})
        # Arguments that do not match the schema: the agent is told, and may try again.
        with pytest.raises(McpToolError, match="message"):
            await fail.call({"text": "wrong argument"})


async def test_a_slow_tool_times_out_and_the_connection_stays_usable(
    mcp_http_server: McpHttpServer,
) -> None:
    spec = mcp_http_server.diag_spec(timeout_seconds=1)
    headers = {"X-Api-Key": MCP_TEST_API_KEY}
    async with open_mcp_tools(spec, None, headers, False) as handles:
        tools = {handle.info.name: handle for handle in handles}
        started = time.monotonic()
        with pytest.raises(McpToolTimeout, match=r"diag.slow gave no answer within 1 s"):
            await tools["diag.slow"].call({"seconds": 5})
        assert time.monotonic() - started < 2
        assert await tools["diag.slow"].call({"seconds": 0.1}) == "slept 0.1 s"


async def test_a_10_mb_answer_reaches_the_agent_capped(mcp_http_server: McpHttpServer) -> None:
    headers = {"X-Api-Key": MCP_TEST_API_KEY}
    async with open_mcp_tools(mcp_http_server.diag_spec(), "big", headers, False) as (big,):
        text = await big.call({"megabytes": 10})
    assert text.startswith("x" * MAX_TOOL_RESULT_BYTES)
    assert text.endswith(f"[truncated: the tool answered {10 * 1024 * 1024} bytes]")
    assert len(text) < MAX_TOOL_RESULT_BYTES + 100


async def test_an_unreachable_server_fails_at_once_with_the_reason(closed_port: int) -> None:
    spec = McpServerSpec(
        name="gone",
        transport="streamable-http",
        url=f"http://127.0.0.1:{closed_port}/mcp",
        timeout_seconds=3,
    )
    started = time.monotonic()
    with pytest.raises(McpConnectError, match=r"MCP server 'gone' .*: cannot connect"):
        async with open_mcp_tools(spec, None, {}, False):
            pass
    assert time.monotonic() - started < 3


async def test_a_silent_server_fails_within_its_timeout(silent_server: str) -> None:
    spec = McpServerSpec(
        name="mute", transport="streamable-http", url=silent_server, timeout_seconds=1
    )
    started = time.monotonic()
    with pytest.raises(McpConnectError, match="gave no answer within 1 s"):
        async with open_mcp_tools(spec, None, {}, False):
            pass
    assert time.monotonic() - started < 3


async def test_a_wrong_path_says_404(mcp_http_server: McpHttpServer) -> None:
    spec = mcp_http_server.orders_spec(url=f"{mcp_http_server.base_url}/nothing")
    with pytest.raises(McpConnectError, match="answered 404"):
        async with open_mcp_tools(spec, None, {}, False):
            pass


async def test_stdio_server_lists_calls_and_leaves_nothing_behind(
    mcp_stdio_server: McpStdioServer,
) -> None:
    spec = mcp_stdio_server.spec(command=mcp_stdio_server.command(grandchild=True))
    order = order_id()
    async with open_mcp_tools(spec, None, {}, allow_stdio=True) as handles:
        tools = {handle.info.name: handle for handle in handles}
        assert set(tools) == ORDERS_TOOLS
        assert await tools["orders.lookup_order"].call({"order_id": order}) == (
            f"order {order}: shipped, total 42.00 EUR"
        )
        state = mcp_stdio_server.state()
        assert alive(state["pid"]) and alive(state["grandchild_pid"])
        assert os.getpgid(state["pid"]) != os.getpgid(0), "the server has a group of its own"
        assert os.getpgid(state["grandchild_pid"]) == os.getpgid(state["pid"])
    assert mcp_stdio_server.calls("lookup_order", order) == 1
    # Closed with the step: the server, and what it started.
    assert await gone_within([state["pid"], state["grandchild_pid"]], 5)


async def test_stdio_is_refused_unless_allowed(mcp_stdio_server: McpStdioServer) -> None:
    with pytest.raises(McpStdioDisabled, match="KASAL_ALLOW_STDIO_MCP=true"):
        async with open_mcp_tools(mcp_stdio_server.spec(), None, {}, allow_stdio=False):
            pass
    assert not mcp_stdio_server.state_file.exists(), "no process was started"


async def test_a_stdio_command_that_is_missing_or_crashes_says_so(tmp_path: Path) -> None:
    missing = McpServerSpec(name="nope", transport="stdio", command=["kasal-no-such-server"])
    with pytest.raises(McpConnectError, match=r"command not found.*kasal-no-such-server"):
        async with open_mcp_tools(missing, None, {}, True):
            pass
    crashing = McpServerSpec(
        name="crash",
        transport="stdio",
        command=[sys.executable, "-c", "import sys; sys.exit('no config file')"],
        timeout_seconds=10,
    )
    started = time.monotonic()
    with pytest.raises(McpConnectError, match=r"exited.*no config file"):
        async with open_mcp_tools(crashing, None, {}, True):
            pass
    assert time.monotonic() - started < 5


async def test_a_server_that_dies_mid_step_fails_the_next_call_at_once(
    tmp_path: Path, mcp_stdio_server: McpStdioServer
) -> None:
    with serve_mcp_http(tmp_path / "server.log") as server:
        assert server.process is not None
        async with open_mcp_tools(server.orders_spec(), "lookup_order", {}, False) as (lookup,):
            server.process.kill()
            server.process.wait()
            started = time.monotonic()
            with pytest.raises(McpConnectionLost, match="cannot connect"):
                await lookup.call({"order_id": order_id()})
            assert time.monotonic() - started < 2
    async with open_mcp_tools(mcp_stdio_server.spec(), "lookup_order", {}, True) as (lookup,):
        os.kill(mcp_stdio_server.state()["pid"], signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(McpConnectionLost, match="the process exited"):
            await lookup.call({"order_id": order_id()})
        assert time.monotonic() - started < 2


# A worker stand-in: opens the stdio server for a step, and waits.
PARENT = """
import asyncio, sys
from activities.tools.mcp import open_mcp_tools
from workflows.tools import McpServerSpec

async def main():
    spec = McpServerSpec.model_validate_json(sys.argv[1])
    async with open_mcp_tools(spec, None, {}, allow_stdio=True) as handles:
        print("open", len(handles), flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_killed_worker_leaves_no_stdio_server_behind(
    mcp_stdio_server: McpStdioServer,
) -> None:
    spec = mcp_stdio_server.spec(command=mcp_stdio_server.command(grandchild=True))
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PARENT, spec.model_dump_json(), cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert parent.stdout is not None
        line = await asyncio.wait_for(parent.stdout.readline(), 30)
        assert line.decode().split() == ["open", "2"]
        state = mcp_stdio_server.state()
        pids = [state["pid"], state["grandchild_pid"]]
        assert all(alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        await parent.wait()
        assert await gone_within(pids, 5), "the server or its child outlived the worker"
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


async def test_probe_lists_an_http_servers_tools(
    client: Client, worker: Worker, mcp_http_server: McpHttpServer
) -> None:
    result = await probe(client, worker, mcp_http_server.orders_spec())
    assert result.ok and result.error is None
    assert {tool.name for tool in result.tools} == ORDERS_TOOLS
    assert all(tool.kind == "mcp" and tool.args_schema for tool in result.tools)


async def test_probe_of_an_unreachable_server_says_why(
    client: Client, worker: Worker, closed_port: int
) -> None:
    spec = McpServerSpec(
        name="gone",
        transport="streamable-http",
        url=f"http://127.0.0.1:{closed_port}/mcp",
        timeout_seconds=2,
    )
    result = await probe(client, worker, spec)
    assert not result.ok and not result.tools
    assert result.error is not None and "cannot connect" in result.error


async def test_probe_of_a_stdio_server_on_a_worker_that_refuses_them(
    client: Client, worker: Worker, mcp_stdio_server: McpStdioServer
) -> None:
    result = await probe(client, worker, mcp_stdio_server.spec())
    assert not result.ok
    assert result.error is not None and "KASAL_ALLOW_STDIO_MCP" in result.error


class DiagSecrets:
    """A worker's secret store that knows the diag server's API key."""

    async def http_tool_headers(self, name: str, workspace: str) -> dict[str, str]:
        return {}

    async def mcp_server_headers(self, name: str, workspace: str) -> dict[str, str]:
        return {"X-Api-Key": MCP_TEST_API_KEY} if name == "diag" else {}


@pytest.fixture
async def tool_worker(client: Client, blob_store: BlobStore) -> AsyncIterator[Worker]:
    """A worker with secrets for its tools, that allows stdio MCP servers."""
    tools = ToolEnvironment(blob_store, DiagSecrets(), allow_stdio_mcp=True)
    worker = build_worker(
        client, f"kasal-test-{uuid.uuid4()}", StaticModelRegistry({}), blob_store, 10, tools=tools
    )
    async with worker:
        yield worker


async def test_probe_uses_the_workers_secrets_and_stdio_where_allowed(
    client: Client,
    tool_worker: Worker,
    mcp_http_server: McpHttpServer,
    mcp_stdio_server: McpStdioServer,
) -> None:
    result = await probe(client, tool_worker, mcp_http_server.diag_spec())
    assert result.ok, result.error
    assert {tool.name for tool in result.tools} == {
        "diag.echo_header",
        "diag.slow",
        "diag.big",
        "diag.fail",
    }
    result = await probe(client, tool_worker, mcp_stdio_server.spec())
    assert result.ok, result.error
    assert {tool.name for tool in result.tools} == ORDERS_TOOLS
    assert not alive(mcp_stdio_server.state()["pid"])


async def test_probe_of_a_server_that_refuses_the_key_says_401(
    client: Client, worker: Worker, mcp_http_server: McpHttpServer
) -> None:
    result = await probe(client, worker, mcp_http_server.diag_spec())
    assert not result.ok
    assert result.error is not None and "401" in result.error


async def probe(client: Client, worker: Worker, spec: McpServerSpec) -> McpProbeResult:
    result: McpProbeResult = await client.execute_workflow(
        MCP_PROBE_WORKFLOW,
        spec,
        id=f"mcp-probe-{uuid.uuid4()}",
        task_queue=worker.task_queue,
        result_type=McpProbeResult,
    )
    return result
