"""Tiny MCP servers for the tests, built with the MCP SDK's server side (FastMCP).

``orders`` offers ``lookup_order(order_id)`` and ``cancel_order(order_id)``, and counts
every call, in all and per order id, so that a test can tell how often a tool was
really called. ``diag`` offers what the failure tests need: ``echo_header(name)`` answers
with a request header (a server that leaks a secret it was sent), ``slow(seconds)``
sleeps, ``big(megabytes)`` answers that much text, and ``fail(message)`` answers an MCP
error result. ``diag`` refuses (401) any
request without the ``X-Api-Key`` it was started with.

Over HTTP, one process serves them all (``python -m tests.mcp_orders_server --http
--port N --api-key K``):

- ``/mcp``: orders over streamable HTTP, answering in SSE (the SDK's default);
- ``/json/mcp``: orders over streamable HTTP, answering in plain JSON;
- ``/sse``: orders over the older SSE transport (messages posted to ``/messages/``);
- ``/diag/mcp``: diag over streamable HTTP;
- ``GET /calls``: the counts, ``{"calls": {"lookup_order": 3, "lookup_order:A-1": 2}}``.

Over stdio (``python -m tests.mcp_orders_server --stdio --state-file F [--grandchild]``)
it serves orders and keeps ``F`` up to date with ``{"pid", "grandchild_pid", "calls"}``;
``--grandchild`` starts a ``sleep`` child first, to show that the whole process group goes.

The fixtures that start these are in tests/mcp_servers.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.server import StreamableHTTPASGIApp

CALLS: Counter[str] = Counter()
# Where a stdio server writes its state after each change (None over HTTP).
STATE_FILE: Path | None = None
GRANDCHILD_PID: int | None = None
API_KEY_HEADER = "X-Api-Key"


def _count(tool: str, order_id: str | None = None) -> None:
    CALLS[tool] += 1
    if order_id is not None:
        CALLS[f"{tool}:{order_id}"] += 1
    _write_state()


def _write_state() -> None:
    if STATE_FILE is None:
        return
    state = {"pid": os.getpid(), "grandchild_pid": GRANDCHILD_PID, "calls": dict(CALLS)}
    tmp = STATE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(STATE_FILE)


def orders_server(*, json_response: bool = False) -> FastMCP:
    mcp = FastMCP("orders", json_response=json_response, log_level="WARNING")

    @mcp.tool()
    def lookup_order(order_id: str) -> str:
        """Look an order up by its id: its status and total."""
        _count("lookup_order", order_id)
        return f"order {order_id}: shipped, total 42.00 EUR"

    @mcp.tool()
    def cancel_order(order_id: str) -> str:
        """Cancel an order that has not shipped yet."""
        _count("cancel_order", order_id)
        return f"order {order_id}: cancelled"

    return mcp


def diag_server() -> FastMCP:
    mcp = FastMCP("diag", log_level="WARNING")

    @mcp.tool()
    def echo_header(name: str, ctx: Context) -> str:  # type: ignore[type-arg]
        """Answer with the value of one of the request's HTTP headers."""
        _count("echo_header")
        request = ctx.request_context.request
        headers = getattr(request, "headers", {})
        return f"{name}: {headers.get(name, '')}"

    @mcp.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        _count("slow")
        await asyncio.sleep(seconds)
        return f"slept {seconds} s"

    @mcp.tool()
    def big(megabytes: float) -> str:
        """Answer this many megabytes of text."""
        _count("big")
        return "x" * int(megabytes * 1024 * 1024)

    @mcp.tool()
    def fail(message: str) -> str:
        """Answer an MCP error result with this message."""
        _count("fail")
        raise ValueError(message)

    return mcp


ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class _RequireApiKey:
    """An ASGI app that answers 401 unless the request carries the API key.

    A class, not a function: Starlette's Route calls a plain function with a Request.
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.responses import JSONResponse

        headers = dict(scope.get("headers") or [])
        if headers.get(API_KEY_HEADER.lower().encode()) != self.api_key.encode():
            response = JSONResponse({"error": "unauthorized"}, status_code=401)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def http_app(api_key: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    orders = orders_server()
    orders_json = orders_server(json_response=True)
    diag = diag_server()
    streamable = [orders, orders_json, diag]
    for server in streamable:
        server.streamable_http_app()  # creates its session manager

    async def calls(request: Request) -> JSONResponse:
        return JSONResponse({"calls": dict(CALLS)})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for server in streamable:
                await stack.enter_async_context(server.session_manager.run())
            yield

    return Starlette(
        routes=[
            Route("/calls", calls, methods=["GET"]),
            Route("/mcp", StreamableHTTPASGIApp(orders.session_manager)),
            Route("/json/mcp", StreamableHTTPASGIApp(orders_json.session_manager)),
            Route(
                "/diag/mcp",
                _RequireApiKey(StreamableHTTPASGIApp(diag.session_manager), api_key),
            ),
            # /sse and /messages/: the SSE transport, last as it mounts at the root.
            Mount("/", app=orders_server().sse_app()),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    global STATE_FILE, GRANDCHILD_PID
    parser = argparse.ArgumentParser(prog="python -m tests.mcp_orders_server")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--http", action="store_true")
    mode.add_argument("--stdio", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="")
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--grandchild", action="store_true")
    args = parser.parse_args()
    if args.http:
        import uvicorn

        uvicorn.run(http_app(args.api_key), host="127.0.0.1", port=args.port, log_level="warning")
        return
    STATE_FILE = args.state_file
    if args.grandchild:
        GRANDCHILD_PID = subprocess.Popen(
            ["sleep", "300"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        ).pid
    _write_state()
    orders_server().run("stdio")


if __name__ == "__main__":
    main()
