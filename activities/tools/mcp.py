"""An MCP server's tools for one step: connect, list, call, close.

``open_mcp_tools`` connects to a server (streamable HTTP, SSE or stdio) with the MCP
SDK's client, lists its tools and yields one ``McpToolHandle`` per tool (or only the
one a plan names). The connection lives as long as the ``async with`` block, one step:
nothing is pooled across steps, so a step retried on another worker connects afresh,
and a stdio server's process lives no longer than the step that started it.

``server.timeout_seconds`` bounds connecting (with initializing and listing the tools)
and each call. A failure to connect raises ``McpConnectError`` with a message that says
why (refused, 401, timeout, stdio disabled, command not found); a tool's own error
result raises ``McpToolError`` with its text, for the agent to react to.

The connection itself, its transports and its errors: activities/tools/mcp_connection.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from mcp import types

from activities.tools.mcp_connection import McpConnectError, McpConnection
from workflows.egress import DEFAULT_POLICY, EgressPolicy
from workflows.tools import MCP_SEPARATOR, McpServerSpec, ToolInfo


@dataclass(frozen=True)
class McpToolHandle:
    """One tool of a connected server, as a step calls it (a ``ToolHandle``)."""

    info: ToolInfo
    remote_name: str  # the tool's name at the server
    _connection: McpConnection

    async def call(self, arguments: dict[str, Any]) -> str:
        """The text of the tool's result; ``McpToolError`` for an error result."""
        return await self._connection.call(self.info.name, self.remote_name, arguments)


@contextlib.asynccontextmanager
async def open_mcp_tools(
    server: McpServerSpec,
    tool_filter: str | None,
    secret_headers: dict[str, str],
    allow_stdio: bool,
    egress: EgressPolicy = DEFAULT_POLICY,
) -> AsyncIterator[list[McpToolHandle]]:
    """Connect to ``server`` and yield handles for its tools: all of them, or only the
    one named ``tool_filter`` (its name at the server, without the server's prefix).

    Calls must be awaited on the event loop that opened the block, before it ends.
    """
    connection = McpConnection(server, {**server.headers, **secret_headers}, allow_stdio, egress)
    tools = await connection.open()
    try:
        if tool_filter is not None:
            offered = ", ".join(sorted(tool.name for tool in tools)) or "none"
            tools = [tool for tool in tools if tool.name == tool_filter]
            if not tools:
                raise McpConnectError(
                    f"MCP server {server.name!r} offers no tool {tool_filter!r} "
                    f"(it offers: {offered})"
                )
        yield [
            McpToolHandle(
                info=tool_info(server.name, tool), remote_name=tool.name, _connection=connection
            )
            for tool in tools
        ]
    finally:
        await connection.close()


def tool_info(server_name: str, tool: types.Tool) -> ToolInfo:
    """A server's tool as the catalogue lists it: ``<server>.<tool>``.

    Idempotent unless the server's annotations say otherwise: a tool the server marks
    neither read-only nor idempotent is journaled as an intent before each call.
    """
    annotations = tool.annotations
    idempotent = True
    if annotations is not None and (
        annotations.readOnlyHint is not None or annotations.idempotentHint is not None
    ):
        idempotent = bool(annotations.readOnlyHint or annotations.idempotentHint)
    return ToolInfo(
        name=f"{server_name}{MCP_SEPARATOR}{tool.name}",
        kind="mcp",
        description=tool.description or tool.title or "",
        args_schema=dict(tool.inputSchema),
        idempotent=idempotent,
    )
