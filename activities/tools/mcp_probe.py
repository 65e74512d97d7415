"""The ``probe_mcp_server`` activity: connect to an MCP server and list its tools.

Run by McpProbeWorkflow (workflows/mcp_probe.py) for ``POST /api/v1/mcp-servers/{name}/test``.
It answers, never raises: ``ok=True`` with the tools as the catalogue lists them
(``<server>.<tool>``), or ``ok=False`` with why not. The server's secret header values
are scrubbed from the error, which may quote what the server answered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from temporalio import activity

from activities.tools.mcp import open_mcp_tools
from activities.tools.mcp_connection import McpConnectError
from workflows.egress import DEFAULT_POLICY, EgressPolicy
from workflows.mcp_probe import PROBE_MCP_SERVER
from workflows.tools import McpProbeResult, McpServerSpec

log = logging.getLogger(__name__)


class McpServerSecrets(Protocol):
    """Where the worker finds an MCP server's secret headers (db/tool_secrets.py)."""

    async def mcp_server_headers(self, name: str, workspace: str) -> dict[str, str]: ...


class McpProbeActivities:
    def __init__(
        self, secrets: McpServerSecrets, allow_stdio: bool, egress: EgressPolicy = DEFAULT_POLICY
    ) -> None:
        self._secrets = secrets
        self._allow_stdio = allow_stdio
        self._egress = egress

    @activity.defn(name=PROBE_MCP_SERVER)
    async def probe_mcp_server(self, server: McpServerSpec) -> McpProbeResult:
        try:
            headers = await self._secrets.mcp_server_headers(server.name, server.workspace)
        except Exception as exc:
            log.exception("reading the secret headers of MCP server %r", server.name)
            return McpProbeResult(
                ok=False,
                error=f"cannot read the secret headers of {server.name!r}: {type(exc).__name__}",
            )
        try:
            async with open_mcp_tools(
                server, None, headers, self._allow_stdio, self._egress
            ) as handles:
                return McpProbeResult(ok=True, tools=[handle.info for handle in handles])
        except McpConnectError as exc:
            return McpProbeResult(ok=False, error=scrub(str(exc), headers.values()))
        except Exception as exc:
            log.exception("probing MCP server %r", server.name)
            error = f"MCP server {server.name!r}: {type(exc).__name__}: {exc}"
            return McpProbeResult(ok=False, error=scrub(error, headers.values()))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value in it replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
