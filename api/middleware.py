"""ASGI middleware that locks the app down: a Host allowlist, a request body limit and
security headers on every response. Errors keep the API's shape, ``{"detail": …}``.

- **Host allowlist** (``KASAL_ALLOWED_HOSTS``). DNS rebinding points a name the attacker
  owns at 127.0.0.1, so that a page of theirs talks to Kasal from the visitor's browser
  as same-origin; its requests carry the attacker's name in ``Host``, which is refused
  with 400. ``/healthz`` is exempt: orchestrators probe it by an address.
- **Body limit** (``KASAL_MAX_REQUEST_BYTES``): 413 for a declared ``Content-Length``
  over the limit at once, and for a chunked body as soon as it grows past it.
- **Security headers**: a Content-Security-Policy with no inline scripts (the built app
  has none), ``nosniff``, ``same-origin`` referrers and no framing. Swagger UI and
  ReDoc load from a CDN with one inline script each, so their pages get those allowed:
  the CDN and, by hash, the exact scripts they were served with.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kasal.settings import Settings

HEALTH_PATHS = frozenset({"/healthz"})
# A body over the limit is read (and dropped) up to this many times the limit before the
# 413, so that clients still sending get the answer; beyond, the connection is closed.
DRAIN_FACTOR = 4
DOCS_CDN = "https://cdn.jsdelivr.net"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the middleware; the Host check outermost, so a refused request costs nothing."""
    app.add_middleware(BodySizeLimit, limit=settings.KASAL_MAX_REQUEST_BYTES)
    app.add_middleware(SecurityHeaders, docs_paths=(app.docs_url, app.redoc_url))
    app.add_middleware(HostAllowlist, allowed=allowed_hosts(settings))


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """``KASAL_ALLOWED_HOSTS`` (``*`` allows any), else localhost, 127.0.0.1, ::1 and
    ``KASAL_HOST``; always the host of ``KASAL_APP_URL``, where people open Kasal."""
    listed = [h.strip() for h in settings.KASAL_ALLOWED_HOSTS.split(",") if h.strip()]
    hosts = set(listed or ["localhost", "127.0.0.1", "::1", settings.KASAL_HOST])
    if settings.KASAL_APP_URL:
        hosts.add(urlsplit(settings.KASAL_APP_URL).hostname or "")
    return frozenset(host.strip("[]").lower() for host in hosts if host)


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=SECURITY_HEADERS)


class HostAllowlist:
    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "*" not in self.allowed:
            host = _host_name(Headers(scope=scope).get("host", ""))
            if host not in self.allowed and scope["path"] not in HEALTH_PATHS:
                response = _error(400, "Invalid Host header: add it to KASAL_ALLOWED_HOSTS")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _host_name(header: str) -> str:
    """``Host`` without its port: ``127.0.0.1:8000`` → ``127.0.0.1``, ``[::1]:80`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Reads a request's body before the app does, up to ``limit`` bytes, and hands it
    on; a body over the limit answers 413 and never reaches a route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "content-length" not in headers and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body (a GET, the event stream)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except _TooLarge:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _read(self, receive: Receive) -> list[Message]:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client left; the app hears it as it would
            size += len(message.get("body", b""))
            if size > self.limit:
                raise _TooLarge
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"The request body is over {self.limit} bytes (KASAL_MAX_REQUEST_BYTES)"
        response = _error(413, detail)
        if not await self._drained(receive):
            response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _drained(self, receive: Receive) -> bool:
        """Read and drop the rest of a body not much over the limit, so that a client
        still sending hears the 413 instead of a reset connection; a larger one is cut."""
        left = DRAIN_FACTOR * self.limit
        while left > 0:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return True
            left -= len(message.get("body", b""))
        return False


def _replaying(messages: Iterable[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: a disconnect, for streaming responses

    return replay


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_paths: Iterable[str | None]) -> None:
        self.app = app
        self.docs_paths = frozenset(path for path in docs_paths if path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(message, CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs pages, held back until their body is known, to hash their scripts."""
        start: Message | None = None
        body = b""

        async def hold(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            assert start is not None
            _add_headers(start, _docs_policy(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


def _add_headers(start: Message, policy: str) -> None:
    headers = MutableHeaders(scope=start)
    headers.setdefault("content-security-policy", policy)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)


def _docs_policy(html: bytes) -> str:
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    policy = CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", f"script-src 'self' {DOCS_CDN}{hashes}"
    )
    policy = policy.replace("style-src 'self'", f"style-src 'self' {DOCS_CDN}")
    # Their logos come from FastAPI's site; ReDoc renders in a worker made from a blob.
    policy = policy.replace("img-src 'self' data:", "img-src 'self' data: https:")
    return f"{policy}; worker-src 'self' blob:"
