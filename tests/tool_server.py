"""A real HTTP API for custom HTTP tools to call: it records every request it gets, so
tests count calls at the tool's server, and it can answer slowly, hugely or with errors.

- ``GET /weather/{city}``: the weather, as JSON
- ``POST /orders``: creates an order (the kind of call a retry must not repeat)
- ``GET /echo-key``: echoes the ``X-Api-Key`` header, as a careless server might
- ``GET /big``: 10 MB; ``GET /slow`` and ``POST /slow-orders``: answer after 30 s;
  anything else: 404
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

BIG_BYTES = 10 * 1024 * 1024


@dataclass
class ToolRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    # The path as it came on the wire, before percent-decoding: "%2F" stays "%2F".
    raw_path: str = ""


class ToolServer:
    def __init__(self) -> None:
        self.requests: list[ToolRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def count(self, path_prefix: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length", 0))
        raw = handler.rfile.read(length) if length else b""
        request = ToolRequest(
            method=method,
            path=unquote(parts.path),
            query=parse_qs(parts.query),
            body=json.loads(raw) if raw else None,
            headers=dict(handler.headers.items()),
            raw_path=parts.path,
        )
        with self._lock:
            self.requests.append(request)
        status, body = self._answer(request, handler)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (a capped body, a timeout)

    def _answer(self, request: ToolRequest, handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        if request.path.startswith("/weather/"):
            city = request.path.removeprefix("/weather/")
            return 200, {"city": city, "forecast": "sunny", "units": request.query.get("units")}
        if request.path == "/orders" and request.method == "POST":
            return 201, {"order": len(self.requests), "item": (request.body or {}).get("item")}
        if request.path == "/slow-orders" and request.method == "POST":
            time.sleep(30)
            return 201, {"order": "late"}
        if request.path == "/echo-key":
            return 200, {"your_key": request.headers.get("X-Api-Key")}
        if request.path == "/big":
            return 200, b"x" * BIG_BYTES
        if request.path == "/slow":
            time.sleep(30)
            return 200, {"late": True}
        return 404, {"error": f"no such thing: {request.path}"}

    def start(self) -> ToolServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def tool_server_session() -> Iterator[ToolServer]:
    server = ToolServer().start()
    yield server
    server.stop()


@pytest.fixture
def tool_server(tool_server_session: ToolServer) -> ToolServer:
    tool_server_session.reset()
    return tool_server_session
