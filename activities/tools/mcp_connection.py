"""One MCP server's connection for one step, and what its calls answer.

The SDK's transports run in anyio task groups that must be entered and left by one
task, and that wrap whatever crosses them in exception groups. So one background task
owns the connection from start to close, and the handles' calls are requests sent to it
from the step's task: an exception in the step never passes through the SDK, and a
failure of the transport reaches a call as ``McpConnectionLost``, saying what it was.

stdio servers run a command on the worker's host: refused unless the operator allows
it (``KASAL_ALLOW_STDIO_MCP``). The command runs under activities/tools/pdeathsig_exec.py,
in its own process group, and dies with the worker, with all it started. It gets the
SDK's minimal environment (HOME, PATH, ...), none of the worker's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
from mcp import ClientSession, McpError, StdioServerParameters, types
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT

from activities.egress import EgressRefused, guarded_client
from activities.tools.handle import ToolError
from workflows.egress import EgressPolicy
from workflows.tools import MAX_TOOL_RESULT_BYTES, McpServerSpec

ALLOW_STDIO_SETTING = "KASAL_ALLOW_STDIO_MCP"
PDEATHSIG_EXEC = Path(__file__).with_name("pdeathsig_exec.py")
# Closing waits this long past the server's timeout for the transport to shut down
# (a stdio server gets 2 s after stdin closes, then SIGTERM, then SIGKILL).
CLOSE_GRACE_SECONDS = 5.0
STDERR_TAIL_CHARS = 2000


class McpConnectError(Exception):
    """The server could not be reached or used; the message says why."""


class McpStdioDisabled(McpConnectError):
    """A stdio server on a worker whose operator has not allowed them."""


class McpConnectionLost(McpConnectError):
    """The connection broke during the step."""


class McpToolError(ToolError):
    """A tool's call failed: its error result, or no answer in time."""


class McpToolTimeout(McpToolError):
    """A tool gave no answer within the server's timeout."""


def result_text(result: types.CallToolResult) -> str:
    """What a tool answered, as text for the model, capped at MAX_TOOL_RESULT_BYTES."""
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[binary resource {resource.uri} ({resource.mimeType or 'unknown'})]")
        elif isinstance(block, types.ResourceLink):
            parts.append(f"[resource {block.uri}]")
        elif isinstance(block, types.ImageContent | types.AudioContent):
            parts.append(f"[{block.type} {block.mimeType}, {len(block.data)} base64 characters]")
    if not parts and result.structuredContent is not None:
        parts.append(json.dumps(result.structuredContent))
    return _cap("\n".join(parts))


def _cap(text: str) -> str:
    data = text.encode()
    if len(data) <= MAX_TOOL_RESULT_BYTES:
        return text
    kept = data[:MAX_TOOL_RESULT_BYTES].decode(errors="ignore")
    return f"{kept}\n[truncated: the tool answered {len(data)} bytes]"


class McpConnection:
    """One server's session, owned from open to close by one background task."""

    def __init__(
        self,
        server: McpServerSpec,
        headers: dict[str, str],
        allow_stdio: bool,
        egress: EgressPolicy,
    ):
        self.server = server
        self.headers = headers
        self.allow_stdio = allow_stdio
        self.egress = egress
        self._session: ClientSession | None = None
        self._tools: list[types.Tool] = []
        self._ready: asyncio.Future[None] | None = None
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._stderr: IO[str] | None = None

    async def open(self) -> list[types.Tool]:
        _check(self.server, self.allow_stdio)
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.server.name}")
        try:
            # The task bounds connecting by the server's timeout; this is a backstop.
            await asyncio.wait_for(
                asyncio.shield(self._ready), self.server.timeout_seconds + CLOSE_GRACE_SECONDS
            )
        except BaseException as exc:
            await self.close()
            if isinstance(exc, McpConnectError | asyncio.CancelledError):
                raise
            raise McpConnectError(self._describe(exc, "connecting")) from exc
        return self._tools

    async def call(self, name: str, remote_name: str, arguments: dict[str, Any]) -> str:
        session, owner = self._session, self._task
        if session is None or owner is None or owner.done() or self._closing.is_set():
            raise McpConnectionLost(self._lost_message())
        timeout = self.server.timeout_seconds
        # Raced against the owner: when the transport fails, the SDK cancels its session
        # before telling the requests in flight, which would wait out their timeout.
        request = asyncio.ensure_future(session.call_tool(remote_name, arguments))
        try:
            done, _ = await asyncio.wait(
                {request, owner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if not request.done():
                request.cancel()
                with contextlib.suppress(BaseException):
                    await request
        if request not in done:
            if owner.done():
                raise McpConnectionLost(self._lost_message())
            raise McpToolTimeout(f"{name} gave no answer within {timeout:g} s")
        try:
            result = request.result()
        except McpError as exc:
            if exc.error.code == types.CONNECTION_CLOSED:
                # Let the owner finish, to say what broke the connection.
                await asyncio.wait({owner}, timeout=1)
                raise McpConnectionLost(self._lost_message()) from exc
            # A JSON-RPC error (an unknown tool, invalid arguments): the agent may fix it.
            raise McpToolError(f"{name}: {exc.error.message}") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise McpConnectionLost(self._lost_message()) from exc
        text = result_text(result)
        if result.isError:
            raise McpToolError(text or f"{name} failed")
        return text

    async def close(self) -> None:
        self._closing.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(
                    asyncio.shield(task), self.server.timeout_seconds + CLOSE_GRACE_SECONDS
                )
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        ready = self._ready
        if ready is not None and ready.done() and not ready.cancelled():
            ready.exception()  # retrieved, whether or not open() was still waiting
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    async def _run(self) -> None:
        assert self._ready is not None
        ready = self._ready
        try:
            async with self._transport() as (read, write), ClientSession(read, write) as session:
                # Only the requests are bounded here, not the transport's exit: cancelled,
                # a stdio transport would SIGKILL our supervisor alone, not its group.
                with anyio.move_on_after(self.server.timeout_seconds) as connecting:
                    await session.initialize()
                    self._tools = await _list_tools(session)
                if connecting.cancelled_caught:
                    raise TimeoutError("connecting")
                self._session = session
                ready.set_result(None)
                await self._closing.wait()
        except BaseException as exc:
            self._failure = exc
            if not ready.done():
                ready.set_exception(McpConnectError(self._describe(exc, "connecting")))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._session = None
            if not ready.done():
                ready.set_exception(McpConnectError(f"MCP server {self.server.name!r} closed"))

    def _transport(self) -> contextlib.AbstractAsyncContextManager[tuple[Any, Any]]:
        server = self.server
        timeout = server.timeout_seconds
        if server.transport == "stdio":
            assert server.command
            command = shutil.which(server.command[0]) or server.command[0]
            self._stderr = tempfile.TemporaryFile("a+", prefix="kasal-mcp-stderr-")
            return stdio_client(
                StdioServerParameters(
                    command=sys.executable,
                    args=[
                        "-I",
                        "-S",
                        str(PDEATHSIG_EXEC),
                        str(os.getpid()),
                        "--",
                        command,
                        *server.command[1:],
                    ],
                ),
                errlog=self._stderr,
            )
        assert server.url
        egress = self.egress

        # Both transports connect through clients that check every connection against
        # the egress policy (activities/egress.py).
        def sse_http_client(
            headers: dict[str, str] | None = None,
            timeout: httpx.Timeout | None = None,
            auth: httpx.Auth | None = None,
        ) -> httpx.AsyncClient:
            return guarded_client(egress, headers=headers, timeout=timeout, auth=auth)

        if server.transport == "sse":
            return _first_two(
                sse_client(
                    server.url,
                    headers=self.headers,
                    timeout=timeout,
                    sse_read_timeout=MCP_DEFAULT_SSE_READ_TIMEOUT,
                    httpx_client_factory=sse_http_client,
                )
            )
        http = guarded_client(
            egress,
            headers=self.headers,
            timeout=httpx.Timeout(timeout, read=max(timeout, MCP_DEFAULT_SSE_READ_TIMEOUT)),
        )
        return _first_two(
            _closing_client(http, streamable_http_client(server.url, http_client=http))
        )

    def _where(self) -> str:
        if self.server.transport == "stdio":
            return f"stdio: {(self.server.command or ['?'])[0]}"
        return f"{self.server.transport} {self.server.url}"

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            tail = self._stderr.read()[-STDERR_TAIL_CHARS:].strip()
        except (OSError, ValueError):
            return ""
        return f"; its stderr ends: {tail}" if tail else ""

    def _lost_message(self) -> str:
        if self._failure is not None:
            return self._describe(self._failure, "the step")
        prefix = f"MCP server {self.server.name!r} ({self._where()})"
        if self.server.transport == "stdio":
            return f"{prefix}: the process exited during the step{self._stderr_tail()}"
        return f"{prefix}: the connection is closed"

    def _describe(self, exc: BaseException, when: str) -> str:
        name, where = self.server.name, self._where()
        cause = _root_cause(exc)
        prefix = f"MCP server {name!r} ({where})"
        if isinstance(cause, TimeoutError):
            return (
                f"{prefix} gave no answer within {self.server.timeout_seconds:g} s"
                f"{self._stderr_tail()}"
            )
        if isinstance(cause, EgressRefused):
            return f"{prefix}: {cause}"
        if isinstance(cause, httpx.HTTPStatusError):
            status = cause.response.status_code
            message = f"{prefix} answered {status} {cause.response.reason_phrase}"
            if status in (401, 403):
                message += ": check its headers and secret headers"
            return message
        if isinstance(cause, httpx.ConnectError):
            return f"{prefix}: cannot connect ({cause or 'connection refused'})"
        if isinstance(cause, httpx.TimeoutException):
            return f"{prefix} gave no answer within {self.server.timeout_seconds:g} s"
        if isinstance(cause, httpx.HTTPError):
            return f"{prefix}: {type(cause).__name__}: {cause}"
        if isinstance(cause, McpError) and cause.error.message == "Session terminated":
            # What the SDK makes of a 404 from a streamable-HTTP server.
            return f"{prefix} answered 404 Not Found: is this the server's MCP endpoint?"
        if isinstance(cause, McpError):
            if self.server.transport == "stdio" and "closed" in cause.error.message.lower():
                return f"{prefix}: the process exited during {when}{self._stderr_tail()}"
            return f"{prefix} answered an error: {cause.error.message}"
        if isinstance(cause, OSError):
            return f"{prefix}: {cause.strerror or cause}"
        return f"{prefix}: {type(cause).__name__}: {cause}{self._stderr_tail()}"


def _check(server: McpServerSpec, allow_stdio: bool) -> None:
    if server.transport == "stdio":
        if not allow_stdio:
            raise McpStdioDisabled(
                f"MCP server {server.name!r} runs a command on the worker's host (stdio), "
                f"which this worker does not allow: set {ALLOW_STDIO_SETTING}=true to allow it"
            )
        if not server.command:
            raise McpConnectError(f"MCP server {server.name!r} (stdio) has no command")
        if shutil.which(server.command[0]) is None:
            raise McpConnectError(
                f"MCP server {server.name!r} (stdio): command not found on the worker's host: "
                f"{server.command[0]}"
            )
        return
    if not server.url or not server.url.startswith(("http://", "https://")):
        raise McpConnectError(
            f"MCP server {server.name!r} ({server.transport}) needs an http(s) url, "
            f"not {server.url!r}"
        )


async def _list_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        page = await session.list_tools(
            params=types.PaginatedRequestParams(cursor=cursor) if cursor else None
        )
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


@contextlib.asynccontextmanager
async def _first_two(
    transport: contextlib.AbstractAsyncContextManager[tuple[Any, ...]],
) -> AsyncIterator[tuple[Any, Any]]:
    """(read, write) of a transport that also yields a session id callback."""
    async with transport as streams:
        yield streams[0], streams[1]


@contextlib.asynccontextmanager
async def _closing_client(
    http: httpx.AsyncClient, transport: contextlib.AbstractAsyncContextManager[Any]
) -> AsyncIterator[Any]:
    async with http, transport as streams:
        yield streams


def _root_cause(exc: BaseException) -> BaseException:
    """The first leaf of nested exception groups that is not a cancellation."""
    leaves = list(_leaves(exc))
    for leaf in leaves:
        if not isinstance(leaf, asyncio.CancelledError):
            return leaf
    return leaves[0] if leaves else exc


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc
