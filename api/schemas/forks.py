"""Forking a run from one of its steps."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from api.limits import run_inputs_within_limit
from api.schemas.runs import ForkedFrom, RunCreated


class ForkRequest(BaseModel):
    from_step: str = Field(description="Re-run this step and everything after it")
    version: int | None = Field(
        default=None, ge=1, description="The definition's version to run; the parent's if unset"
    )
    inputs: Annotated[dict[str, Any], AfterValidator(run_inputs_within_limit)] | None = Field(
        default=None, description="The run's inputs; the parent's if unset"
    )


class ForkCreated(RunCreated):
    forked_from: ForkedFrom
    reused: list[str] = Field(description="Steps taken from the parent, not run again")
    rerun: list[str] = Field(description="Steps the fork runs")
