"""Rules for MCP servers: names unique, every update a new version, secret header values
encrypted and never returned, and a test that probes the server from a worker.

The probe runs where the tools run: a stdio server's command exists on the worker's host
(and whether it may run is the worker's rule), and the worker resolves the secrets. The
API starts the probe workflow by name, so it never imports ``activities/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from temporalio import exceptions as temporal_exceptions
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from api.egress import egress_policy, refuse, url_problems
from api.errors import Conflict, NotFound, Unavailable
from api.schemas.tools import McpServerCreate, McpServerFields, McpServerRead, McpServerUpdate
from api.services.tools import check_kept_secrets
from api.temporal import TemporalGateway
from db.base import utcnow
from db.models import McpServerRow
from db.secrets import SecretBox
from db.tool_secrets import encrypt_headers
from db.uow import UnitOfWork
from db.user_tools import cache_entry, cached_tools, mcp_secret_header_names, mcp_spec
from kasal.settings import Settings
from workflows.tools import MCP_PROBE_WORKFLOW, McpProbeResult

# How much longer than the server's own timeout a test waits for the worker's answer.
PROBE_SLACK_SECONDS = 10


class McpServerService:
    def __init__(
        self, uow: UnitOfWork, secrets: SecretBox, temporal: TemporalGateway, settings: Settings
    ) -> None:
        self.uow = uow
        self.secrets = secrets
        self.temporal = temporal
        self.settings = settings

    async def create(self, data: McpServerCreate) -> McpServerRead:
        """Store a new server as version 1, its secret headers encrypted; untested."""
        self._check_url(data)
        async with self.uow as uow:
            if await uow.mcp_servers.get(data.name) is not None:
                raise _name_taken(data.name)
            now = utcnow()
            row = McpServerRow(
                name=data.name,
                version=1,
                secret_headers_encrypted=encrypt_headers(self.secrets, data.secret_headers),
                tools_cache=None,
                created_at=now,
                updated_at=now,
            )
            _set_fields(row, data)
            # Two requests may pass the check at once; the primary key decides.
            try:
                await uow.mcp_servers.insert(row)
            except IntegrityError:
                raise _name_taken(data.name) from None
            return self._read(row)

    async def get(self, name: str) -> McpServerRead:
        async with self.uow as uow:
            return self._read(await _existing(uow, name))

    async def get_all(self) -> list[McpServerRead]:
        async with self.uow as uow:
            return [self._read(row) for row in await uow.mcp_servers.list()]

    async def update(self, name: str, data: McpServerUpdate) -> McpServerRead:
        """Replace the definition as the next version. The tools of the last test are
        kept unless where or how the server is reached changed."""
        self._check_url(data)
        async with self.uow as uow:
            row = await _existing(uow, name)
            if not await uow.mcp_servers.claim_next_version(row):
                raise Conflict(f"MCP server '{name}' changed concurrently; read it and retry")
            if "secret_headers" in data.model_fields_set:
                secret = data.secret_headers or {}
                row.secret_headers_encrypted = encrypt_headers(self.secrets, secret)
            check_kept_secrets(data.headers, mcp_secret_header_names(row, self.secrets))
            moved = (row.transport, row.url, row.command) != (
                data.transport,
                data.url,
                data.command,
            )
            _set_fields(row, data)
            if moved:
                row.tools_cache = None
            row.updated_at = utcnow()
            return self._read(row)

    async def delete(self, name: str) -> None:
        async with self.uow as uow:
            await uow.mcp_servers.delete(await _existing(uow, name))

    async def test(self, name: str) -> McpProbeResult:
        """Ask a worker to connect and list the server's tools; on success they become
        the server's catalogue entries. 200 either way: ``ok`` says which."""
        async with self.uow as uow:
            row = await _existing(uow, name)
            spec = mcp_spec(row, mcp_secret_header_names(row, self.secrets))
        bound = spec.timeout_seconds + PROBE_SLACK_SECONDS
        client = await self.temporal.client()
        try:
            handle = await client.start_workflow(
                MCP_PROBE_WORKFLOW,
                spec,
                id=f"mcp-probe-{name}-{uuid.uuid4()}",
                task_queue=self.settings.KASAL_TASK_QUEUE,
                result_type=McpProbeResult,
                # Temporal closes a probe that no one ran, after the API stopped waiting.
                execution_timeout=timedelta(seconds=bound + PROBE_SLACK_SECONDS),
                static_summary=f"Test of MCP server {name} · v{spec.version}",
            )
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        try:
            result = await asyncio.wait_for(handle.result(), bound)
        except TimeoutError:
            with contextlib.suppress(RPCError):
                await handle.terminate("no worker answered in time")
            raise _no_worker(name, bound) from None
        except WorkflowFailureError as failure:
            cause = failure.cause
            if isinstance(cause, temporal_exceptions.TimeoutError):
                raise _no_worker(name, bound) from None
            return McpProbeResult(ok=False, error=str(cause) if cause else str(failure))
        except RPCError as err:
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        if result.ok:
            await self._keep_tools(name, spec.version, result)
        return result

    async def _keep_tools(self, name: str, version: int, result: McpProbeResult) -> None:
        """Store the listed tools, unless the server changed while it was probed."""
        async with self.uow as uow:
            row = await uow.mcp_servers.get(name)
            if row is not None and row.version == version:
                row.tools_cache = [cache_entry(name, tool) for tool in result.tools]

    def _check_url(self, data: McpServerFields) -> None:
        refuse(url_problems(egress_policy(self.settings), data.url, ("body", "url")))

    def _read(self, row: McpServerRow) -> McpServerRead:
        return McpServerRead(
            name=row.name,
            version=row.version,
            transport=row.transport,  # type: ignore[arg-type]
            url=row.url,
            command=row.command,
            headers=row.headers or {},
            secret_header_names=mcp_secret_header_names(row, self.secrets),
            timeout_seconds=row.timeout_seconds,
            tools=cached_tools(row),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


async def _existing(uow: UnitOfWork, name: str) -> McpServerRow:
    row = await uow.mcp_servers.get(name)
    if row is None:
        raise NotFound(f"no MCP server '{name}'")
    return row


def _no_worker(name: str, bound: float) -> Unavailable:
    return Unavailable(f"no worker answered the test of MCP server '{name}' within {bound:g} s")


def _name_taken(name: str) -> Conflict:
    return Conflict(f"an MCP server named '{name}' already exists")


def _set_fields(row: McpServerRow, data: McpServerFields) -> None:
    row.transport = data.transport
    row.url = data.url
    row.command = data.command
    row.headers = data.headers
    row.timeout_seconds = data.timeout_seconds
