"""The user's tools as the compiler and the catalogue see them: stored rows turned into
pinned definitions (no secret values) and catalogue entries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from db.models import McpServerRow, ToolRow
from db.secrets import SecretBox
from db.tool_secrets import decrypt_headers
from db.uow import UnitOfWork
from workflows.tools import (
    MCP_SEPARATOR,
    HttpToolSpec,
    McpServerSpec,
    McpTransport,
    PinnedTool,
    ToolInfo,
)


def http_spec(row: ToolRow) -> HttpToolSpec:
    return HttpToolSpec.model_validate(row.spec)


def http_pinned(row: ToolRow) -> PinnedTool:
    return PinnedTool(
        name=row.name,
        kind="http",
        version=row.version,
        workspace=row.workspace,
        description=row.description,
        args_schema=row.spec["args_schema"],
        idempotent=row.spec["idempotent"],
        http=http_spec(row),
    )


def http_info(row: ToolRow) -> ToolInfo:
    return ToolInfo(
        name=row.name,
        kind="http",
        description=row.description,
        args_schema=row.spec["args_schema"],
        idempotent=row.spec["idempotent"],
    )


def mcp_spec(row: McpServerRow, secret_header_names: list[str]) -> McpServerSpec:
    transport: McpTransport = row.transport  # type: ignore[assignment]
    return McpServerSpec(
        name=row.name,
        version=row.version,
        workspace=row.workspace,
        transport=transport,
        url=row.url,
        command=row.command,
        headers=row.headers or {},
        secret_header_names=secret_header_names,
        timeout_seconds=row.timeout_seconds,
    )


def mcp_secret_header_names(row: McpServerRow, secrets: SecretBox) -> list[str]:
    """The names of the server's secret headers (their values stay in the ciphertext)."""
    return sorted(decrypt_headers(secrets, row.secret_headers_encrypted))


def cached_tools(row: McpServerRow) -> list[ToolInfo] | None:
    """The server's tools from its last successful test, named ``<server>.<tool>``."""
    if row.tools_cache is None:
        return None
    return [
        ToolInfo.model_validate({**tool, "name": f"{row.name}{MCP_SEPARATOR}{tool['name']}"})
        for tool in row.tools_cache
    ]


def cache_entry(server: str, tool: ToolInfo) -> dict[str, Any]:
    """How a probed tool is stored: by its own name, without the server's prefix."""
    prefix = f"{server}{MCP_SEPARATOR}"
    name = tool.name[len(prefix) :] if tool.name.startswith(prefix) else tool.name
    return {**tool.model_dump(mode="json"), "name": name, "kind": "mcp"}


class UserTools(Mapping[str, PinnedTool]):
    """The user tools a definition may name, for ``compile_plan``.

    Every HTTP tool by name; every MCP server as ``<server>.*`` and, from its last test,
    each of its tools as ``<server>.<tool>``. A server never tested successfully has no
    list to check against, so any ``<server>.<tool>`` of it resolves (with no
    description or schema; the worker reads those from the server). Those names are
    answered but not iterated: there is no end to them.
    """

    def __init__(self, known: dict[str, PinnedTool], untested: dict[str, McpServerSpec]) -> None:
        self._known = known
        self._untested = untested

    def __getitem__(self, name: str) -> PinnedTool:
        if name in self._known:
            return self._known[name]
        server, separator, tool = name.partition(MCP_SEPARATOR)
        if separator and tool and server in self._untested:
            return PinnedTool(
                name=name,
                kind="mcp",
                version=self._untested[server].version,
                mcp=self._untested[server],
                mcp_tool=tool,
            )
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


async def load_user_tools(uow: UnitOfWork, secrets: SecretBox) -> UserTools:
    """Inside ``uow``: every HTTP tool and MCP server, pinned at its current version."""
    known: dict[str, PinnedTool] = {}
    untested: dict[str, McpServerSpec] = {}
    for row in await uow.tools.list():
        known[row.name] = http_pinned(row)
    for server in await uow.mcp_servers.list():
        spec = mcp_spec(server, mcp_secret_header_names(server, secrets))
        known[f"{server.name}{MCP_SEPARATOR}*"] = PinnedTool(
            name=f"{server.name}{MCP_SEPARATOR}*",
            kind="mcp",
            version=server.version,
            description=f"Every tool of the MCP server '{server.name}'",
            mcp=spec,
        )
        tools = cached_tools(server)
        if tools is None:
            untested[server.name] = spec
            continue
        for tool in tools:
            known[tool.name] = PinnedTool(
                name=tool.name,
                kind="mcp",
                version=server.version,
                description=tool.description,
                args_schema=tool.args_schema,
                idempotent=tool.idempotent,
                mcp=spec,
                mcp_tool=tool.name.partition(MCP_SEPARATOR)[2],
            )
    return UserTools(known, untested)
