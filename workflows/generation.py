"""What generating a definition from a prompt passes around: the workflow's and the
activity's input and output types, shared by the API, the workflow and the activity."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from workflows.compiler import CompileError

GENERATE_DEFINITION_WORKFLOW = "GenerateDefinitionWorkflow"
PROPOSE_DEFINITION = "propose_definition"
# After the first answer, how many times the model sees its compile errors and tries again.
MAX_REPAIRS = 3
MAX_PROMPT_CHARS = 10_000

GenerationStatus = Literal["running", "completed", "failed"]


class GenerateDefinitionInput(BaseModel):
    """A user's description of a workflow, and the model config (of their workspace)
    asked to write it."""

    workspace: str
    model: str
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)


class Proposal(BaseModel):
    """One answer of the model: its text, the definition found in it, and what the
    compiler said of that definition (nothing, when it compiles)."""

    answer: str
    spec: dict[str, Any] | None = None
    errors: list[CompileError] = []


class ProposeDefinitionInput(BaseModel):
    request: GenerateDefinitionInput
    # The answer before, whose errors the model is asked to repair; None the first time.
    repair: Proposal | None = None


class GenerationResult(BaseModel):
    """How a generation ended: a definition that compiles, or the last errors."""

    status: Literal["completed", "failed"]
    spec: dict[str, Any] | None = None
    errors: list[CompileError] = []
    # How many times the model answered.
    answers: int = 0
