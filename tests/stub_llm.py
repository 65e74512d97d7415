"""Scripted, OpenAI-compatible stub LLM HTTP server for tests.

This is the fake at the HTTP edge: product code (litellm via CrewAI, or the
``openai`` client) talks real HTTP to it.  It runs uvicorn + a tiny Starlette app
on ``127.0.0.1`` with an ephemeral port, in a background thread with its own
event loop.

Usage::

    with StubLLM() as stub:                      # or: stub = StubLLM().start(); ...; stub.stop()
        stub.script("summarise", Reply.error(500), Reply.error(500), Reply("done"))
        stub.script("login", Reply.echo_key_401())
        ...  # point the code under test at stub.url ("http://127.0.0.1:PORT/v1")
        assert stub.call_count("summarise") == 3

Rule matching: each rule's ``match`` is a substring searched in the concatenated
message contents of the request.  Rules are checked **in the order they were
added and the first one that matches wins** (``match=""`` is a catch-all).  A
rule's replies are consumed in sequence; the last one repeats forever.  With no
matching rule the server answers 200 with ``stub.default_text``.

Pytest: ``stub_llm_server`` (session scope, one server) and ``stub_llm``
(function scope, reset before each test) fixtures are defined here; import them
into a conftest.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

__all__ = ["Call", "Reply", "StubLLM", "stub_llm", "stub_llm_server"]

STUB_MODEL = "stub"
# Parsing a streamed chunk costs litellm about half a millisecond: a reply of megabytes in
# eight-word chunks took a minute to read, so long replies come in larger chunks.
MAX_STREAMED_CHUNKS = 100
DEFAULT_TEXT = "Final Answer: ok"

# OpenAI's error "type" / "code" for the statuses tests usually script.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
}


def _error_body(status: int, message: str | None = None) -> dict[str, Any]:
    err_type, code = _ERROR_KINDS.get(
        status, ("server_error" if status >= 500 else "api_error", None)
    )
    return {
        "error": {
            "message": message or f"Stub LLM scripted error {status}",
            "type": err_type,
            "param": None,
            "code": code,
        }
    }


@dataclass
class Reply:
    """One scripted answer.

    ``status >= 400`` answers with an OpenAI-shaped JSON error (``error_body`` if
    given).  ``delay`` seconds are waited before answering; ``hang`` never
    answers until the client disconnects or the server stops; ``held`` answers
    once the test calls ``stub.release()``.  A streamed reply comes in chunks of eight
    words (more for a long one: ``MAX_STREAMED_CHUNKS`` at most), ``chunk_delay`` seconds
    apart, and stops after ``pause_after`` chunks until
    ``stub.release()``.  ``echo_key``
    puts the client's bearer key into the 401 message (see ``echo_key_401``).
    """

    text: str = "ok"
    status: int = 200
    delay: float = 0.0
    hang: bool = False
    held: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    error_body: dict[str, Any] | None = None
    echo_key: bool = False
    # Native function calls instead of text: [(name, arguments), ...].
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Prompt tokens the reply says it served from the provider's cache.
    cached_tokens: int = 0
    # Streamed replies: seconds between chunks, and a chunk count after which the
    # stream stops until the test calls ``stub.release()`` (a step caught mid-reply).
    chunk_delay: float = 0.0
    pause_after: int | None = None

    @classmethod
    def calls_tools(cls, *calls: tuple[str, dict[str, Any]]) -> Reply:
        """An assistant message with OpenAI ``tool_calls`` and no content.

        For the ReAct text format, script the text itself:
        ``Reply("Thought: ...\nAction: calculate\nAction Input: {...}")``.
        """
        return cls(text="", tool_calls=list(calls))

    def message(self) -> dict[str, Any]:
        if not self.tool_calls:
            return {"role": "assistant", "content": self.text}
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{index}_{name}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments)},
                }
                for index, (name, arguments) in enumerate(self.tool_calls)
            ],
        }

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        retry_after: float | None = None,
        *,
        delay: float = 0.0,
    ) -> Reply:
        """An OpenAI-shaped error; ``retry_after`` sets the ``Retry-After`` header."""
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls(
            status=status, delay=delay, headers=headers, error_body=_error_body(status, message)
        )

    @classmethod
    def echo_key_401(cls) -> Reply:
        """401 whose message echoes the bearer key sent, like OpenAI's real answer."""
        return cls(status=401, echo_key=True)

    @classmethod
    def timeout(cls) -> Reply:
        """Never answer (the client's own timeout fires)."""
        return cls(hang=True)


@dataclass
class Call:
    """A recorded request.  ``*_mono`` are ``time.monotonic()``, ``*_wall`` are ``time.time()``.

    ``finished_*`` and ``status`` stay ``None`` while the request is in flight;
    a hung request gets ``finished_*`` when the client gave up (``status`` None,
    ``disconnected`` True) or the server stopped.
    """

    rule: str | None
    path: str
    body: dict[str, Any]
    messages_text: str
    authorization: str | None
    stream: bool
    started_mono: float
    started_wall: float
    status: int | None = None
    # The usage the reply reported (a 200 only), for tests that price the calls.
    usage: dict[str, Any] | None = None
    finished_mono: float | None = None
    finished_wall: float | None = None
    disconnected: bool = False
    # A streamed reply's text chunks as sent: (time.monotonic(), characters sent so far).
    chunks: list[tuple[float, int]] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.finished_mono is None:
            return None
        return self.finished_mono - self.started_mono

    def _finish(self, status: int | None) -> None:
        self.status = status
        self.finished_mono = time.monotonic()
        self.finished_wall = time.time()


@dataclass
class _Rule:
    match: str
    replies: list[Reply]
    used: int = 0


def _messages_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):  # multimodal / content parts
            parts.extend(
                str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
            )
    return "\n".join(parts)


async def _client_left(request: Request) -> None:
    """Return once the client disconnects (its body was already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _count_tokens(text: str) -> int:
    return max(1, len(text.split()))


class StubLLM:
    """OpenAI-compatible stub server; see the module docstring."""

    def __init__(self, default_text: str = DEFAULT_TEXT) -> None:
        self.default_text = default_text
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._calls: list[Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        # Waited on and set on the server's loop only (by stop() and release()).
        self._stopping = asyncio.Event()
        self._released = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ----------------------------------------------------------------- scripting
    def script(self, match: str, *replies: Reply) -> StubLLM:
        """Add a rule; with no replies it answers ``Reply()`` ("ok")."""
        with self._lock:
            self._rules.append(_Rule(match, list(replies) or [Reply()]))
        return self

    def release(self) -> None:
        """Answer every held request, and from now on every new one at once."""
        self._on_server_loop(self._released.set)

    def reset(self) -> None:
        """Forget all rules and recorded calls (``default_text`` is kept)."""
        with self._lock:
            self._rules.clear()
            self._calls.clear()
        if self._loop is not None:
            self._on_server_loop(self._released.clear)

    def _on_server_loop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the server's loop (asyncio events are not thread-safe)."""
        if self._loop is None:
            raise RuntimeError("StubLLM is not started")

        async def run() -> None:
            callback()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=5)

    def calls(self, match: str | None = None) -> list[Call]:
        """Recorded calls attributed to rule ``match`` (None: all calls)."""
        with self._lock:
            return [c for c in self._calls if match is None or c.rule == match]

    def call_count(self, match: str | None = None) -> int:
        return len(self.calls(match))

    def wait_for_calls(self, n: int, match: str | None = None, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``n`` calls (for ``match``) arrived; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls(match)) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {n} calls for {match!r}, got {len(found)}")
            time.sleep(0.01)
        return found

    def _pick(self, text: str) -> tuple[str | None, Reply]:
        with self._lock:
            for rule in self._rules:
                if rule.match in text:
                    reply = rule.replies[min(rule.used, len(rule.replies) - 1)]
                    rule.used += 1
                    return rule.match, reply
        return None, Reply(text=self.default_text)

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("StubLLM is not started")
        return f"http://127.0.0.1:{self._port}/v1"

    def start(self) -> StubLLM:
        if self._thread is not None:
            raise RuntimeError("StubLLM already started")
        # IPPROTO_TCP, not the default 0: asyncio turns Nagle's algorithm off (TCP_NODELAY)
        # only on sockets that say they are TCP. With it on, a JSON reply's body, written
        # after its headers, waited for the client's delayed ACK: 40 ms a call.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        self._stopping, self._released = asyncio.Event(), asyncio.Event()  # one loop's worth

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        self._thread = threading.Thread(
            target=lambda: asyncio.run(serve()),
            name="stub-llm",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("StubLLM failed to start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the server; in-flight (even hung) requests are released first."""
        if self._server is None or self._thread is None:
            return
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._server = self._thread = None
        self._port = self._loop = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------- HTTP app
    def _app(self) -> Starlette:
        routes = [
            Route(path, self._chat, methods=["POST"])
            for path in ("/v1/chat/completions", "/chat/completions")
        ] + [Route(path, self._models, methods=["GET"]) for path in ("/v1/models", "/models")]
        return Starlette(routes=routes)

    async def _models(self, request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": STUB_MODEL, "object": "model", "created": 0, "owned_by": "stub"}],
            }
        )

    async def _wait(self, request: Request, reply: Reply) -> bool:
        """Wait as the reply says; False if the client left or the server stops first.

        Event-driven rather than polled, so that a thousand held requests cost the
        process nothing while they wait.
        """
        seconds = None if reply.hang or reply.held else reply.delay
        interrupted = {
            asyncio.ensure_future(_client_left(request)),
            asyncio.ensure_future(self._stopping.wait()),
        }
        released = asyncio.ensure_future(self._released.wait())
        watchers = interrupted | ({released} if reply.held else set())
        done, pending = await asyncio.wait(
            watchers, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for watcher in pending | {released}:
            watcher.cancel()
        return not done & interrupted

    async def _chat(self, request: Request) -> Response:
        started_mono, started_wall = time.monotonic(), time.time()
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        text = _messages_text(body)
        rule, reply = self._pick(text)
        auth = request.headers.get("authorization")
        call = Call(
            rule=rule,
            path=request.url.path,
            body=body,
            messages_text=text,
            authorization=auth,
            stream=bool(body.get("stream")),
            started_mono=started_mono,
            started_wall=started_wall,
        )
        with self._lock:
            self._calls.append(call)

        if not await self._wait(request, reply):
            call.disconnected = not self._stopping.is_set()
            call._finish(None)
            return Response(status_code=503)

        if reply.status >= 400:
            payload = reply.error_body or _error_body(reply.status)
            if reply.echo_key:
                key = (auth or "").removeprefix("Bearer ").strip()
                payload = _error_body(401, f"Incorrect API key provided: {key}.")
            call._finish(reply.status)
            return JSONResponse(payload, status_code=reply.status, headers=reply.headers)

        model = str(body.get("model") or STUB_MODEL)
        usage: dict[str, Any] = {
            "prompt_tokens": (p := _count_tokens(text)),
            "completion_tokens": (c := _count_tokens(reply.text)),
            "total_tokens": p + c,
        }
        if reply.cached_tokens:
            usage["prompt_tokens_details"] = {"cached_tokens": min(reply.cached_tokens, p)}
        call.usage = usage
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(started_wall)
        if call.stream:
            return StreamingResponse(
                self._sse(call, reply, cid, created, model, usage),
                status_code=reply.status,
                headers=reply.headers,
                media_type="text/event-stream",
            )
        call._finish(reply.status)
        return JSONResponse(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": reply.message(),
                        "logprobs": None,
                        "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    }
                ],
                "usage": usage,
            },
            status_code=reply.status,
            headers=reply.headers,
        )

    async def _sse(
        self,
        call: Call,
        reply: Reply,
        cid: str,
        created: int,
        model: str,
        usage: dict[str, Any],
    ) -> AsyncIterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> str:
            data = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(data)}\n\n"

        words = reply.text.split(" ")
        size = max(8, -(-len(words) // MAX_STREAMED_CHUNKS))
        pieces = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
        sent = 0
        try:
            yield chunk({"role": "assistant", "content": ""}, None)
            for i, piece in enumerate(pieces if not reply.tool_calls else []):
                if i == reply.pause_after:
                    await self._released.wait()
                elif i and reply.chunk_delay:
                    await asyncio.sleep(reply.chunk_delay)
                content = piece if i == 0 else " " + piece
                sent += len(content)
                call.chunks.append((time.monotonic(), sent))
                yield chunk({"content": content}, None)
            for index, tool_call in enumerate(reply.message().get("tool_calls") or []):
                yield chunk({"tool_calls": [{"index": index, **tool_call}]}, None)
            finish = "tool_calls" if reply.tool_calls else "stop"
            yield chunk({}, finish, usage=usage)
            yield "data: [DONE]\n\n"
        finally:
            call._finish(reply.status)


# ---------------------------------------------------------------- pytest fixtures
@pytest.fixture(scope="session")
def stub_llm_server() -> Iterator[StubLLM]:
    """One stub server for the whole test session."""
    with StubLLM() as server:
        yield server


@pytest.fixture
def stub_llm(stub_llm_server: StubLLM) -> Iterator[StubLLM]:
    """The session's stub server, with rules, records and default text reset."""
    stub_llm_server.reset()
    stub_llm_server.default_text = DEFAULT_TEXT
    yield stub_llm_server
    stub_llm_server.reset()
