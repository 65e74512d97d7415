"""McpProbeWorkflow: list an MCP server's tools, or say why it cannot be used.

``POST /api/v1/mcp-servers/{name}/test`` starts this workflow on Kasal's task queue and
waits for its answer. A worker connects, not the API, because that is where the
server's tools will run: a stdio server's command exists on the worker's host (and runs
only where ``KASAL_ALLOW_STDIO_MCP`` allows it), its secret headers are resolved there,
and the network a worker sees is the one the tools will be called over.

The workflow runs one activity, ``probe_mcp_server`` (activities/tools/mcp_probe.py),
once: a probe reports what it found, and a retry would only make the user wait longer
for the same answer. The activity answers ``ok=False`` with the reason for anything that
goes wrong at the server (refused, 401, timeout, stdio disabled, command not found); if
the activity itself fails or outlives the server's timeout, the workflow answers that.
Either way the workflow completes with a ``McpProbeResult``, never fails.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError

from workflows.tools import MCP_PROBE_WORKFLOW, McpProbeResult, McpServerSpec

PROBE_MCP_SERVER = "probe_mcp_server"
# Past the server's own timeout: starting a stdio server, and closing the connection.
PROBE_GRACE = timedelta(seconds=5)
PROBE_RETRY = RetryPolicy(maximum_attempts=1)


@workflow.defn(name=MCP_PROBE_WORKFLOW)
class McpProbeWorkflow:
    """One probe of one MCP server, from a worker."""

    @workflow.run
    async def run(self, server: McpServerSpec) -> McpProbeResult:
        timeout = timedelta(seconds=server.timeout_seconds) + PROBE_GRACE
        try:
            result: McpProbeResult = await workflow.execute_activity(
                PROBE_MCP_SERVER,
                server,
                start_to_close_timeout=timeout,
                retry_policy=PROBE_RETRY,
                result_type=McpProbeResult,
                summary=f"probe MCP server {server.name}",
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, TimeoutError):
                error = f"the probe of {server.name!r} did not finish within {timeout.seconds} s"
            else:
                error = f"the probe of {server.name!r} failed: {cause or exc}"
            return McpProbeResult(ok=False, error=error)
        return result
