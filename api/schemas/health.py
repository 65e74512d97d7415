"""GET /healthz's body, the same for a 200 and a 503."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str = Field(description="`ok`, or why the database does not answer")
    temporal: str = Field(description="`ok`, or why Temporal does not answer")
    worker: str = Field(description="`ok`, or why no worker polls the task queue")
