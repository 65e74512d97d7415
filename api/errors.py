"""Domain errors and how they become HTTP responses: always ``{"detail": …}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from workflows.compiler import CompilationFailed


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class BadRequest(ValueError):
    """A request that parses but cannot be served as asked."""


class Unavailable(Exception):
    """A part Kasal depends on (Temporal, a worker) does not answer."""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(BadRequest)
    async def bad_request(_: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Unavailable)
    async def unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(CompilationFailed)
    async def invalid(_: Request, exc: CompilationFailed) -> JSONResponse:
        # loc is counted from the definition's root (or names a run input), not the body.
        detail = [error.model_dump() for error in exc.errors]
        return JSONResponse({"detail": detail}, status_code=422)
