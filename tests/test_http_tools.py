"""Custom HTTP tools against a real HTTP server: how the model's arguments reach it, what
comes back, and how its errors, huge answers and silences end."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from activities.tools.handle import ToolError
from activities.tools.http_tool import HttpTool
from tests.tool_server import BIG_BYTES, ToolServer
from workflows.tools import HttpMethod, HttpToolSpec, PinnedTool


def http_tool(
    url_template: str,
    method: HttpMethod = "GET",
    secret_headers: dict[str, str] | None = None,
    **spec: Any,
) -> HttpTool:
    pinned = PinnedTool(
        name="tool",
        kind="http",
        description="a tool under test",
        args_schema={"type": "object", "properties": {}},
        http=HttpToolSpec(method=method, url_template=url_template, **spec),
    )
    return HttpTool(pinned, secret_headers or {})


async def test_get_percent_encodes_a_template_variable_into_one_path_segment(
    tool_server: ToolServer,
) -> None:
    tool = http_tool(f"{tool_server.url}/weather/{{city}}")
    answer = json.loads(await tool.call({"city": "São Paulo/North", "units": "metric"}))
    assert answer == {"city": "São Paulo/North", "forecast": "sunny", "units": ["metric"]}
    [request] = tool_server.requests
    assert request.method == "GET"
    assert request.raw_path == "/weather/S%C3%A3o%20Paulo%2FNorth"  # "/" did not split it
    assert request.path == "/weather/São Paulo/North"
    assert request.query == {"units": ["metric"]}  # the other arguments, not the variable
    assert request.body is None


async def test_get_puts_the_other_arguments_in_the_query_string(tool_server: ToolServer) -> None:
    tool = http_tool(f"{tool_server.url}/weather/Oslo")
    await tool.call({"units": "metric & more", "days": 3, "alerts": True})
    [request] = tool_server.requests
    assert request.query == {"units": ["metric & more"], "days": ["3"], "alerts": ["true"]}


async def test_post_sends_the_arguments_as_a_json_body(tool_server: ToolServer) -> None:
    tool = http_tool(f"{tool_server.url}/orders", method="POST")
    arguments = {"item": "widget", "quantity": 2, "options": {"gift": True}, "tags": ["a"]}
    answer = json.loads(await tool.call(arguments))
    assert answer == {"order": 1, "item": "widget"}
    [request] = tool_server.requests
    assert (request.method, request.path, request.query) == ("POST", "/orders", {})
    assert request.body == arguments
    assert request.headers["Content-Type"] == "application/json"


async def test_secret_and_plain_headers_are_sent(tool_server: ToolServer) -> None:
    tool = http_tool(
        f"{tool_server.url}/echo-key",
        headers={"X-Plain": "visible"},
        secret_header_names=["X-Api-Key"],
        secret_headers={"X-Api-Key": "k-SECRET-123"},
    )
    assert json.loads(await tool.call({})) == {"your_key": "k-SECRET-123"}
    [request] = tool_server.requests
    assert request.headers["X-Api-Key"] == "k-SECRET-123"
    assert request.headers["X-Plain"] == "visible"


async def test_a_404_is_a_tool_error_with_the_status_and_body(tool_server: ToolServer) -> None:
    tool = http_tool(f"{tool_server.url}/nothing/{{id}}")
    with pytest.raises(ToolError, match=r"GET .*/nothing/7 answered 404: .*no such thing"):
        await tool.call({"id": 7})
    assert tool_server.count("/nothing/7") == 1


async def test_a_huge_answer_is_capped_at_the_tools_limit_with_a_note(
    tool_server: ToolServer,
) -> None:
    limit = 64 * 1024
    tool = http_tool(f"{tool_server.url}/big", max_response_bytes=limit)
    text = await tool.call({})
    body, note = text.rsplit("\n", 1)
    assert body == "x" * limit
    assert note == "[truncated at 64 KB]"
    assert limit < BIG_BYTES


async def test_a_cap_under_a_kilobyte_is_stated_in_bytes(tool_server: ToolServer) -> None:
    text = await http_tool(f"{tool_server.url}/big", max_response_bytes=1000).call({})
    assert text == "x" * 1000 + "\n[truncated at 1000 bytes]"


async def test_an_answer_within_the_cap_has_no_note(tool_server: ToolServer) -> None:
    tool = http_tool(f"{tool_server.url}/weather/{{city}}", max_response_bytes=1024)
    assert "truncated" not in await tool.call({"city": "Oslo"})


async def test_a_silent_server_is_a_tool_error_after_the_timeout(tool_server: ToolServer) -> None:
    tool = http_tool(f"{tool_server.url}/slow", timeout_seconds=1)
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"GET .*/slow did not answer within 1 s"):
        await tool.call({})
    assert 0.9 <= time.monotonic() - started < 3
    assert tool_server.count("/slow") == 1


async def test_a_missing_template_argument_is_a_tool_error_and_no_request(
    tool_server: ToolServer,
) -> None:
    tool = http_tool(f"{tool_server.url}/weather/{{city}}/{{day}}")
    with pytest.raises(ToolError, match="missing arguments for the URL: city, day"):
        await tool.call({"units": "metric"})
    with pytest.raises(ToolError, match="missing arguments for the URL: day"):
        await tool.call({"city": "Oslo"})
    assert tool_server.requests == []


async def test_an_unreachable_server_is_a_tool_error() -> None:
    tool = http_tool("http://127.0.0.1:9/nothing", timeout_seconds=2)
    with pytest.raises(ToolError, match=r"GET http://127.0.0.1:9/nothing failed: ConnectError"):
        await tool.call({})
