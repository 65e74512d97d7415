"""Domain errors and how they become HTTP responses: always ``{"detail": …}``, the one
shape api/schemas/errors.py declares (a sentence, or located items for a 422)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from db.payload_store import PayloadMissing
from workflows.compiler import CompilationFailed

# The `type` of a 422 item the compiler found (pydantic's own keep theirs: `missing`, …).
COMPILE_ERROR = "compile_error"
# What a 503 for a busy or missing part asks a client to wait before it tries again.
RETRY_AFTER_SECONDS = 2


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class PreconditionFailed(Exception):
    """An If-Match that no longer holds: the resource changed since the client read it."""


class BadRequest(ValueError):
    """A request that parses but cannot be served as asked."""


class Unavailable(Exception):
    """A part Kasal depends on (Temporal, a worker) does not answer."""


class Unauthenticated(Exception):
    """No principal: no valid session cookie, API token, JWT or trusted proxy header."""


class Forbidden(Exception):
    """A principal whose role (or approver status) does not allow the operation."""


class RateLimited(Exception):
    """Too many attempts (sign-in); the client should wait before trying again."""


def install_error_handlers(app: FastAPI) -> None:
    for error, status_code in (
        (NotFound, 404),
        (Conflict, 409),
        (PreconditionFailed, 412),
        (BadRequest, 400),
        (Forbidden, 403),
        (RateLimited, 429),
        # A run whose stored payload this deployment's blob store does not have.
        (PayloadMissing, 503),
    ):
        app.add_exception_handler(error, _detail_with_status(status_code))

    @app.exception_handler(Unavailable)
    async def unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return _try_again_later(str(exc))

    @app.exception_handler(PoolTimeout)
    async def no_free_connection(_: Request, exc: PoolTimeout) -> JSONResponse:
        # An overloaded API: every pooled database connection stayed busy. Nothing was
        # written, so the request may be sent again as it was.
        return _try_again_later("the database is busy: no connection came free in time")

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(_: Request, exc: Unauthenticated) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="kasal"'}
        return JSONResponse({"detail": str(exc)}, status_code=401, headers=headers)

    @app.exception_handler(CompilationFailed)
    async def invalid(_: Request, exc: CompilationFailed) -> JSONResponse:
        # loc is counted from the definition's root (or names a run input), not the body.
        detail = [{**error.model_dump(), "type": COMPILE_ERROR} for error in exc.errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def unprocessable(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Located items only: pydantic's `input` would echo the body back (an api_key
        # included), and `ctx` is in `msg` already.
        detail = [
            {"loc": list(error["loc"]), "msg": str(error["msg"]), "type": str(error["type"])}
            for error in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    app.add_middleware(MethodNotAllowed)


def _detail_with_status(
    status_code: int,
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_code)

    return handle


def _try_again_later(detail: str) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse({"detail": detail}, status_code=503, headers=headers)


class MethodNotAllowed:
    """A 405 with an `Allow` that lists every method the OpenAPI document gives the path.

    Without it, a method a path lacks falls through to the built app's static files
    (`Allow: GET, HEAD`, whatever the path), or Starlette names the methods of one of
    the path's routes only. Paths match as OpenAPI says: a concrete path before a
    templated one, so `PUT /workflows/validate` is 405, not a PUT of a workflow with
    the id `validate`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._paths: list[tuple[re.Pattern[str], int, frozenset[str]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self._allowed_methods(scope)
            if allowed is not None and scope["method"] not in allowed:
                response = JSONResponse(
                    {"detail": "Method Not Allowed"},
                    status_code=405,
                    headers={"Allow": ", ".join(sorted(allowed))},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _allowed_methods(self, scope: Scope) -> frozenset[str] | None:
        """The methods of the most concrete documented path matching the request's."""
        if self._paths is None:
            # The app's routes are all in place by its first request.
            self._paths = [
                (compile_path(path)[0], path.count("{"), _methods(operations))
                for path, operations in scope["app"].openapi()["paths"].items()
            ]
        matching = [
            (params, methods)
            for regex, params, methods in self._paths
            if regex.match(scope["path"])
        ]
        if not matching:
            return None
        return min(matching, key=lambda match: match[0])[1]


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _methods(operations: dict[str, object]) -> frozenset[str]:
    return frozenset(method.upper() for method in operations if method in _HTTP_METHODS)
