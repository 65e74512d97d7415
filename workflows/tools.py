"""Tools an agent may call: catalogue entries, the built-in tools as data, and what a plan pins.

The API lists and compiles tools from here without importing ``activities/``, where
the tools are implemented; a test holds the two to each other. A plan pins each tool's
definition at one version and never its secrets: the activity resolves those by the
tool's (or MCP server's) name at run time, as it resolves model keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ToolKind = Literal["builtin", "http", "mcp"]
McpTransport = Literal["streamable-http", "sse", "stdio"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

# What OpenAI-style function calling accepts as a tool's name.
MODEL_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# An MCP tool is catalogued as "<server>.<tool>"; the model sees "<server>__<tool>".
MCP_SEPARATOR = "."
MODEL_MCP_SEPARATOR = "__"

MAX_TOOL_RESULT_BYTES = 256 * 1024


class ToolInfo(BaseModel):
    """One entry of the catalogue (``GET /api/v1/tools``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: ToolKind
    description: str
    args_schema: dict[str, Any]
    # A call that is not idempotent is journaled as an intent before it is made, and
    # never made again by a retry that finds the intent without a result.
    idempotent: bool = True


class HttpToolSpec(BaseModel):
    """A custom HTTP tool's definition, without its secret header values."""

    model_config = ConfigDict(frozen=True)

    method: HttpMethod = "GET"
    url_template: str
    headers: dict[str, str] = {}
    secret_header_names: list[str] = []
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_response_bytes: int = Field(default=MAX_TOOL_RESULT_BYTES, gt=0)


class McpServerSpec(BaseModel):
    """An MCP server's definition, without its secret header values."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int = 1
    # The workspace the server belongs to: where the worker finds its secret headers.
    workspace: str = "default"
    transport: McpTransport
    url: str | None = None
    command: list[str] | None = None
    headers: dict[str, str] = {}
    secret_header_names: list[str] = []
    timeout_seconds: float = Field(default=30, gt=0, le=600)


class PinnedTool(BaseModel):
    """A tool as a plan pins it: its definition at one version, never its secrets."""

    model_config = ConfigDict(frozen=True)

    name: str  # as agents name it: "calculate", "weather", "orders.lookup_order", "orders.*"
    kind: ToolKind
    version: int = 1
    # The workspace a custom tool belongs to: where the worker finds its secret headers.
    workspace: str = "default"
    description: str = ""
    args_schema: dict[str, Any] = {}
    idempotent: bool = True
    http: HttpToolSpec | None = None
    mcp: McpServerSpec | None = None
    # The server's tool this names; None for "<server>.*", every tool the server offers.
    mcp_tool: str | None = None


class McpProbeResult(BaseModel):
    """What ``POST /api/v1/mcp-servers/{name}/test`` answers: the tools, or why not."""

    ok: bool
    tools: list[ToolInfo] = []
    error: str | None = None


# The workflow a worker runs to probe an MCP server from where tools run (a stdio server's
# command exists on the worker's host, and its secrets are resolved there).
MCP_PROBE_WORKFLOW = "McpProbeWorkflow"


def model_tool_name(name: str) -> str:
    """The name the model sees: "orders.lookup_order" becomes "orders__lookup_order"."""
    return name.replace(MCP_SEPARATOR, MODEL_MCP_SEPARATOR, 1)


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PATH = {"type": "string", "description": "A path in the run's scratch space, like notes/a.txt"}

BUILTIN_TOOLS: tuple[ToolInfo, ...] = (
    ToolInfo(
        name="fetch_url",
        kind="builtin",
        description=(
            "Fetch a public http(s) URL and return its body as text (at most 256 KB). "
            "Private, loopback and link-local addresses are refused."
        ),
        args_schema=_object({"url": {"type": "string", "description": "An http(s) URL"}}, ["url"]),
    ),
    ToolInfo(
        name="read_file",
        kind="builtin",
        description="Read a text file from this run's scratch space.",
        args_schema=_object({"path": _PATH}, ["path"]),
    ),
    ToolInfo(
        name="write_file",
        kind="builtin",
        description="Write a text file to this run's scratch space, replacing any file there.",
        args_schema=_object({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]),
    ),
    ToolInfo(
        name="list_files",
        kind="builtin",
        description="List the files in this run's scratch space.",
        args_schema=_object({}, []),
    ),
    ToolInfo(
        name="calculate",
        kind="builtin",
        description=(
            "Evaluate an arithmetic expression: numbers, + - * / // % **, parentheses, "
            "and the functions abs, round, min, max, sqrt."
        ),
        args_schema=_object({"expression": {"type": "string"}}, ["expression"]),
    ),
    ToolInfo(
        name="json_query",
        kind="builtin",
        description=(
            "Read a value out of a JSON document by a path of keys and list indexes, "
            'like "items.0.name"; an empty path returns the whole document.'
        ),
        args_schema=_object(
            {"document": {"type": "string"}, "path": {"type": "string"}}, ["document", "path"]
        ),
    ),
    ToolInfo(
        name="sql_query",
        kind="builtin",
        description=(
            "Run one read-only SQL query against the configured database and return the "
            "rows as JSON (at most 1,000 rows)."
        ),
        args_schema=_object({"query": {"type": "string"}}, ["query"]),
    ),
)

BUILTIN_BY_NAME = {tool.name: tool for tool in BUILTIN_TOOLS}


def pin_builtin(tool: ToolInfo) -> PinnedTool:
    return PinnedTool(
        name=tool.name,
        kind="builtin",
        description=tool.description,
        args_schema=tool.args_schema,
        idempotent=tool.idempotent,
    )


def resolve_tool(name: str, tools: Mapping[str, PinnedTool]) -> PinnedTool | None:
    """The tool an agent's ``name`` stands for, pinned: a built-in, or one of the user
    tools (``tools``, by the names agents may write); None when there is none."""
    builtin = BUILTIN_BY_NAME.get(name)
    if builtin is not None:
        return pin_builtin(builtin)
    return tools.get(name)


def tool_problem(name: str, tools: Mapping[str, PinnedTool]) -> str | None:
    """Why an agent may not name ``name``; None when it may."""
    if resolve_tool(name, tools) is None:
        return (
            f"unknown tool '{name}': name a built-in, an HTTP tool, "
            f"'<server>{MCP_SEPARATOR}<tool>' or '<server>{MCP_SEPARATOR}*' of an MCP server"
        )
    # "<server>.*" is expanded where the tools run; every other name reaches the model.
    if not name.endswith(f"{MCP_SEPARATOR}*") and not MODEL_TOOL_NAME.match(model_tool_name(name)):
        return (
            f"tool '{name}' cannot be offered to a model: as '{model_tool_name(name)}' it "
            "must be 1-64 letters, digits, '_' or '-'"
        )
    return None
