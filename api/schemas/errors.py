"""The one error body every route answers with, and the statuses each route declares.

Every error is ``{"detail": …}``: a sentence, or for a 422 the list of what is wrong,
each item located (``loc``, counted from the body's root or the definition's root),
explained (``msg``) and classified (``type``). api/errors.py sends exactly this shape;
the OpenAPI document declares it for every error status, 422 included.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorLocation(BaseModel):
    loc: list[str | int] = Field(description="Where: a path from the body's (or definition's) root")
    msg: str
    type: str = Field(description="What kind of problem, e.g. `missing` or `compile_error`")


class ErrorResponse(BaseModel):
    detail: str | list[ErrorLocation]


# What each status means on this API, for the OpenAPI document.
ERROR_DESCRIPTIONS = {
    400: "The request cannot be served as sent: a body that is not JSON, a page token "
    "this API did not give out, an empty If-Match",
    401: "No principal: sign in, or send `Authorization: Bearer <API token or JWT>`",
    403: "The principal's role in this workspace does not allow this",
    404: "No such resource",
    409: "Conflicts with the resource's state (a taken name, a closed run, a gate that "
    "is not waiting, a race another request won)",
    412: "If-Match names a version that is no longer the latest",
    422: "The request is invalid: every problem, each with its location",
    429: "Too many attempts; wait and try again",
    503: "Temporal, a worker or the database cannot serve it now; send it again after "
    "`Retry-After` seconds (with the same Idempotency-Key, for a launch)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can answer each of ``statuses`` with an error."""
    return {
        status: {"model": ErrorResponse, "description": ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }
