"""Fixtures for the test MCP servers of tests/mcp_orders_server.py (a pytest plugin).

``mcp_http_server`` (session scope) runs them over HTTP in a child process; its
``calls(tool, order_id)`` reads how often a tool was called there. ``serve_mcp_http``
starts a private one, for a test that kills it. ``mcp_stdio_server``
gives the command of the orders server over stdio, and reads the state it writes.
Counts only grow over the session: compare before and after, or use a fresh order id.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from workflows.tools import McpServerSpec

ROOT = Path(__file__).resolve().parent.parent
# What the diag server wants in X-Api-Key; a test secret, found nowhere it must not be.
MCP_TEST_API_KEY = "mcp-test-key-SECRET-7d1e0b"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class McpHttpServer:
    base_url: str
    api_key: str = MCP_TEST_API_KEY
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """orders over streamable HTTP (SSE answers)."""
        return f"{self.base_url}/mcp"

    @property
    def json_url(self) -> str:
        """orders over streamable HTTP (plain JSON answers)."""
        return f"{self.base_url}/json/mcp"

    @property
    def sse_url(self) -> str:
        """orders over the SSE transport."""
        return f"{self.base_url}/sse"

    @property
    def diag_url(self) -> str:
        """diag (echo_header, slow, big, fail) over streamable HTTP; needs X-Api-Key."""
        return f"{self.base_url}/diag/mcp"

    def calls(self, tool: str, order_id: str | None = None) -> int:
        answer = httpx.get(f"{self.base_url}/calls", timeout=5)
        answer.raise_for_status()
        counts: dict[str, int] = answer.json()["calls"]
        return counts.get(tool if order_id is None else f"{tool}:{order_id}", 0)

    def orders_spec(self, name: str = "orders", **fields: Any) -> McpServerSpec:
        defaults: dict[str, Any] = {"transport": "streamable-http", "url": self.url}
        return McpServerSpec(name=name, **{**defaults, "timeout_seconds": 10, **fields})

    def diag_spec(self, name: str = "diag", **fields: Any) -> McpServerSpec:
        defaults: dict[str, Any] = {"transport": "streamable-http", "url": self.diag_url}
        defaults |= {"secret_header_names": ["X-Api-Key"], "timeout_seconds": 10}
        return McpServerSpec(name=name, **{**defaults, **fields})


@dataclass
class McpStdioServer:
    """The orders server over stdio; it writes its pid and counts to ``state_file``."""

    state_file: Path

    def command(self, *, grandchild: bool = False) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "tests.mcp_orders_server",
            "--stdio",
            "--state-file",
            str(self.state_file),
        ]
        return [*command, "--grandchild"] if grandchild else command

    def spec(self, name: str = "orders", **fields: Any) -> McpServerSpec:
        defaults: dict[str, Any] = {"transport": "stdio", "command": self.command()}
        return McpServerSpec(name=name, **{**defaults, "timeout_seconds": 20, **fields})

    def state(self) -> dict[str, Any]:
        """The last state the server wrote: {"pid", "grandchild_pid", "calls"}."""
        state: dict[str, Any] = json.loads(self.state_file.read_text())
        return state

    def calls(self, tool: str, order_id: str | None = None) -> int:
        counts: dict[str, int] = self.state()["calls"]
        return counts.get(tool if order_id is None else f"{tool}:{order_id}", 0)


@contextlib.contextmanager
def serve_mcp_http(log_path: Path) -> Iterator[McpHttpServer]:
    """The HTTP test servers in a child process of their own, for as long as the block."""
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.mcp_orders_server",
                "--http",
                "--port",
                str(port),
                "--api-key",
                MCP_TEST_API_KEY,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = McpHttpServer(f"http://127.0.0.1:{port}", process=process)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the MCP test server exited ({process.returncode})")
                try:
                    server.calls("lookup_order")
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def mcp_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpHttpServer]:
    """The HTTP test servers, shared by the session: counts only grow."""
    with serve_mcp_http(tmp_path_factory.mktemp("mcp-http") / "server.log") as server:
        yield server


@pytest.fixture
def mcp_stdio_server(tmp_path: Path) -> McpStdioServer:
    return McpStdioServer(tmp_path / f"mcp-stdio-{uuid.uuid4().hex[:8]}.json")
