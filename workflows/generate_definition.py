"""GenerateDefinitionWorkflow: a workflow definition written by a model from a prompt.

``POST /api/v1/workflows/generate`` starts it and answers at once with its id, so a slow
model never ties up a request; ``GET /api/v1/workflows/generations/{id}`` reads how it
went. Each answer of the model is one ``propose_definition`` activity
(activities/generation.py), which also compiles the definition against the workspace's
model configs and tools. Answers whose definition does not compile go back to the model,
with their errors, up to ``MAX_REPAIRS`` times; each of those calls is its own activity,
so a 429 or 500 retries that one call, visibly, and never the answers before it.

It ends completed with a definition that compiles, or with the last errors. A model
that cannot be called (a 401, an unknown model config) ends it at once, with why.
Nothing is saved: the user saves the draft, through the API, if they want it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.compiler import CompileError
from workflows.generation import (
    GENERATE_DEFINITION_WORKFLOW,
    MAX_REPAIRS,
    PROPOSE_DEFINITION,
    GenerateDefinitionInput,
    GenerationResult,
    Proposal,
    ProposeDefinitionInput,
)

# One model call: a local model writing a whole definition on a small CPU is slow.
ANSWER_TIMEOUT = timedelta(minutes=5)
# Every attempt at one answer, its retries and their waits included.
ANSWER_DEADLINE = timedelta(minutes=15)
# 429s and 500s pass; the activity marks what cannot (401, 400, unknown config).
ANSWER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)


@workflow.defn(name=GENERATE_DEFINITION_WORKFLOW)
class GenerateDefinitionWorkflow:
    """Ask, compile, and feed the errors back until the definition compiles or the
    repairs run out."""

    @workflow.run
    async def run(self, request: GenerateDefinitionInput) -> GenerationResult:
        repair: Proposal | None = None
        for answer in range(1, MAX_REPAIRS + 2):
            try:
                proposal: Proposal = await workflow.execute_activity(
                    PROPOSE_DEFINITION,
                    ProposeDefinitionInput(request=request, repair=repair),
                    start_to_close_timeout=ANSWER_TIMEOUT,
                    schedule_to_close_timeout=ANSWER_DEADLINE,
                    retry_policy=ANSWER_RETRY,
                    result_type=Proposal,
                    summary=f"answer {answer} of model {request.model}",
                )
            except ActivityError as exc:
                return GenerationResult(
                    status="failed", errors=[CompileError(loc=[], msg=_why(exc))], answers=answer
                )
            if not proposal.errors:
                return GenerationResult(status="completed", spec=proposal.spec, answers=answer)
            repair = proposal
        assert repair is not None
        return GenerationResult(status="failed", errors=repair.errors, answers=MAX_REPAIRS + 1)


def _why(exc: ActivityError) -> str:
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or exc)
