"""Request and response bodies for generating a workflow definition from a prompt."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from workflows.compiler import CompileError
from workflows.generation import MAX_PROMPT_CHARS, GenerationStatus

Prompt = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PROMPT_CHARS)
]


class GenerateRequest(BaseModel):
    prompt: Prompt = Field(description="The workflow, described in words")
    model: str = Field(
        min_length=1, max_length=200, description="The model config that writes the definition"
    )


class GenerationStarted(BaseModel):
    generation_id: uuid.UUID


class GenerationRead(BaseModel):
    """A generation as Temporal knows it: running, or how it ended (null where a field
    does not apply). Nothing is saved."""

    status: GenerationStatus
    spec: dict[str, Any] | None = Field(
        default=None, description="When completed: a definition that compiles, unsaved"
    )
    errors: list[CompileError] | None = Field(
        default=None, description="When failed: the last compile errors, or why it stopped"
    )
