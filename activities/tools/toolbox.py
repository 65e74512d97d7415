"""A step's tools, opened for one attempt and closed when it ends: built-in tools, custom
HTTP tools with their secret headers, and MCP servers' tools over connections of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from activities.tools.calculate import calculate, json_query
from activities.tools.fetch import FetchPolicy, fetch_url
from activities.tools.handle import FunctionTool, ToolHandle
from activities.tools.http_tool import HttpTool
from activities.tools.scratch import ScratchSpace
from activities.tools.sql import SqlTool
from db.blobs import BlobStore
from workflows.egress import EgressPolicy
from workflows.tools import BUILTIN_BY_NAME, PinnedTool

BuiltinCall = Callable[[dict[str, Any]], Awaitable[str]]


class ToolSecrets(Protocol):
    async def http_tool_headers(self, name: str, workspace: str) -> dict[str, str]: ...

    async def mcp_server_headers(self, name: str, workspace: str) -> dict[str, str]: ...


class _NoToolSecrets:
    """For workers without a database of tools (tests of built-in tools): no secrets."""

    async def http_tool_headers(self, name: str, workspace: str) -> dict[str, str]:
        return {}

    async def mcp_server_headers(self, name: str, workspace: str) -> dict[str, str]:
        return {}


NO_TOOL_SECRETS = _NoToolSecrets()


@dataclass(frozen=True)
class ToolEnvironment:
    """What tools need from the worker; one per worker."""

    blobs: BlobStore
    secrets: ToolSecrets
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    sql: SqlTool | None = None
    allow_stdio_mcp: bool = False
    # Where configured URLs may go: HTTP tools, MCP servers, and (the worker's one policy)
    # models and webhooks too.
    egress: EgressPolicy = field(default_factory=EgressPolicy)


@dataclass
class Toolbox:
    tools: list[ToolHandle] = field(default_factory=list)
    # Every secret value the tools were given, to scrub from what is journaled and shown.
    secrets: list[str] = field(default_factory=list)


def builtin_calls(environment: ToolEnvironment, scratch: ScratchSpace) -> dict[str, BuiltinCall]:
    """The built-in tools' implementations, by the names workflows/tools.py lists."""

    async def run_calculate(arguments: dict[str, Any]) -> str:
        return calculate(str(arguments["expression"]))

    async def run_json_query(arguments: dict[str, Any]) -> str:
        return json_query(str(arguments["document"]), str(arguments["path"]))

    async def run_sql(arguments: dict[str, Any]) -> str:
        sql = environment.sql or SqlTool(None, "")
        return await sql.query(str(arguments["query"]))

    async def run_fetch(arguments: dict[str, Any]) -> str:
        return await fetch_url(str(arguments["url"]), environment.fetch_policy)

    async def run_read(arguments: dict[str, Any]) -> str:
        return await scratch.read(str(arguments["path"]))

    async def run_write(arguments: dict[str, Any]) -> str:
        return await scratch.write(str(arguments["path"]), str(arguments["content"]))

    async def run_list(arguments: dict[str, Any]) -> str:
        return await scratch.list()

    return {
        "fetch_url": run_fetch,
        "read_file": run_read,
        "write_file": run_write,
        "list_files": run_list,
        "calculate": run_calculate,
        "json_query": run_json_query,
        "sql_query": run_sql,
    }


@asynccontextmanager
async def open_toolbox(
    pinned: list[PinnedTool], environment: ToolEnvironment, run_id: str, step_id: str
) -> AsyncIterator[Toolbox]:
    toolbox = Toolbox()
    builtins = builtin_calls(environment, ScratchSpace(environment.blobs, run_id, step_id))
    async with AsyncExitStack() as stack:
        for tool in pinned:
            if tool.kind == "builtin":
                info = BUILTIN_BY_NAME[tool.name]
                toolbox.tools.append(FunctionTool(info, builtins[tool.name]))
            elif tool.kind == "http":
                headers = await environment.secrets.http_tool_headers(tool.name, tool.workspace)
                toolbox.secrets += headers.values()
                toolbox.tools.append(HttpTool(tool, headers, environment.egress))
            else:
                toolbox.tools += await _open_mcp(stack, tool, environment, toolbox)
        yield toolbox


async def _open_mcp(
    stack: AsyncExitStack, tool: PinnedTool, environment: ToolEnvironment, toolbox: Toolbox
) -> list[ToolHandle]:
    from activities.tools.mcp import open_mcp_tools

    assert tool.mcp is not None, "an MCP tool carries its server's definition"
    headers = await environment.secrets.mcp_server_headers(tool.mcp.name, tool.mcp.workspace)
    toolbox.secrets += headers.values()
    handles = await stack.enter_async_context(
        open_mcp_tools(
            tool.mcp, tool.mcp_tool, headers, environment.allow_stdio_mcp, environment.egress
        )
    )
    return list(handles)
