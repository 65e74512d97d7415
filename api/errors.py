"""Domain errors and how they become HTTP responses: always ``{"detail": …}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from workflows.compiler import CompilationFailed


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


def install_error_handlers(app: FastAPI) -> None:
    for error, status_code in (
        (NotFound, 404),
        (Conflict, 409),
        (PreconditionFailed, 412),
        (BadRequest, 400),
        (Unavailable, 503),
    ):
        app.add_exception_handler(error, _detail_with_status(status_code))

    @app.exception_handler(CompilationFailed)
    async def invalid(_: Request, exc: CompilationFailed) -> JSONResponse:
        # loc is counted from the definition's root (or names a run input), not the body.
        detail = [error.model_dump() for error in exc.errors]
        return JSONResponse({"detail": detail}, status_code=422)


def _detail_with_status(
    status_code: int,
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_code)

    return handle
