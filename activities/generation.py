"""The ``propose_definition`` activity: one answer of a model to "write this workflow",
compiled against the workspace it is for.

Run by GenerateDefinitionWorkflow (workflows/generate_definition.py). It is an activity
because it calls a model over HTTP and reads the workspace's model configs and tools.
The model is given the definition's JSON schema: as structured output where litellm
says the provider supports it, and in the prompt either way, the answer's first JSON
object being the definition. A repair shows the model its last answer and the compile
errors (``{loc, msg}``) of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

import litellm
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.egress import EgressRefused, check_url
from activities.heartbeat import heartbeating
from activities.llm_errors import classify
from activities.llm_manager import complete
from activities.model_registry import ModelConfig, ModelRegistry, UnknownModel
from api.output_schemas import output_schema_errors
from db.called_workflows import resolve_called_workflows
from db.secrets import SecretBox
from db.uow import UnitOfWork
from db.user_tools import load_user_tools
from workflows.compiler import NO_TOOLS, CompilationFailed, CompileError, validate_definition
from workflows.definition import WorkflowDefinition
from workflows.egress import EgressPolicy
from workflows.generation import PROPOSE_DEFINITION, Proposal, ProposeDefinitionInput
from workflows.plan_building import NO_CHILDREN, Children
from workflows.tools import BUILTIN_TOOLS, PinnedTool

# The HTTP call gives up a little before the activity's own timeout, so that the
# attempt fails with a clear timeout error rather than being cut off.
LLM_TIMEOUT_MARGIN = 0.9
# An answer longer than this is not a definition anyone meant.
MAX_ANSWER_CHARS = 200_000
SCHEMA = WorkflowDefinition.model_json_schema()
STRUCTURED_OUTPUT = {
    "type": "json_schema",
    # Not strict: OpenAI's strict mode refuses optional fields, and every field with a
    # default is optional in this schema.
    "json_schema": {"name": "workflow_definition", "schema": SCHEMA, "strict": False},
}

INSTRUCTIONS = """\
You design workflows for Kasal. Answer with one JSON object, a workflow definition that \
meets the JSON schema below, and nothing else.

- Agents do the work: each has an id, a role, a goal, a backstory and an `llm`, the name \
of a model config. Model configs: {models}. Use "{model}" unless the description asks \
for another.
- Prefer `task` steps (an agent does a described job with an expected output) and \
`approval` steps (a person approves before the steps after it run). Use condition, \
router, map, loop or workflow steps only when the description cannot do without them.
- A step lists the ids of the steps it waits for in `after`. Ids are letters, digits, \
`_` and `-`.
- What a run asks for goes in `inputs`; texts name an input as `{{name}}`. Write `{{{{` \
and `}}}}` for a literal brace.
- Agents may list tools by name, only from: {tools}.

The JSON schema of a definition:
{schema}"""

REPAIR = """\
That definition does not compile. Each error gives where (`loc`, a path from the \
definition's root) and what is wrong (`msg`):
{errors}
Answer with the whole corrected definition as one JSON object, and nothing else."""


class WorkspaceCatalogue(Protocol):
    """What a workspace's definitions may name: its model configs, its user tools and
    its saved definitions, which ``workflow`` steps call."""

    async def model_names(self, workspace: str) -> set[str]: ...

    async def user_tools(self, workspace: str) -> Mapping[str, PinnedTool]: ...

    async def called_workflows(
        self,
        workspace: str,
        spec: Mapping[str, Any],
        models: set[str],
        tools: Mapping[str, PinnedTool],
    ) -> Children: ...


class DatabaseCatalogue:
    """The catalogue the API compiles against, read from the database."""

    def __init__(self, sessions: async_sessionmaker[Any], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    async def model_names(self, workspace: str) -> set[str]:
        async with UnitOfWork(self._sessions, workspace) as uow:
            return await uow.model_configs.names()

    async def user_tools(self, workspace: str) -> Mapping[str, PinnedTool]:
        async with UnitOfWork(self._sessions, workspace) as uow:
            return await load_user_tools(uow, self._secrets)

    async def called_workflows(
        self,
        workspace: str,
        spec: Mapping[str, Any],
        models: set[str],
        tools: Mapping[str, PinnedTool],
    ) -> Children:
        """The saved definitions ``spec`` calls, resolved as when it is saved or run."""
        async with UnitOfWork(self._sessions, workspace) as uow:
            return await resolve_called_workflows(uow, spec, models, tools)


class RegistryCatalogue:
    """A worker without a database: its model registry's names, no user tools and no
    saved definitions."""

    def __init__(self, models: ModelRegistry) -> None:
        self._models = models

    async def model_names(self, workspace: str) -> set[str]:
        return await self._models.names()

    async def user_tools(self, workspace: str) -> Mapping[str, PinnedTool]:
        return NO_TOOLS

    async def called_workflows(
        self,
        workspace: str,
        spec: Mapping[str, Any],
        models: set[str],
        tools: Mapping[str, PinnedTool],
    ) -> Children:
        return NO_CHILDREN


class GenerationActivities:
    def __init__(
        self, models: ModelRegistry, catalogue: WorkspaceCatalogue, egress: EgressPolicy
    ) -> None:
        self._models = models
        self._catalogue = catalogue
        self._egress = egress

    @activity.defn(name=PROPOSE_DEFINITION)
    async def propose_definition(self, input: ProposeDefinitionInput) -> Proposal:
        """An activity: it calls a model and reads the workspace's catalogue."""
        request = input.request
        attempt = activity.info().attempt
        config = await self._config(request.model, request.workspace)
        names = await self._catalogue.model_names(request.workspace)
        tools = await self._catalogue.user_tools(request.workspace)
        timeout = activity.info().start_to_close_timeout or timedelta(minutes=5)
        structured = litellm.supports_response_schema(model=config.model)
        async with heartbeating():
            try:
                answer = await complete(
                    config,
                    messages(input, names, tools),
                    timeout.total_seconds() * LLM_TIMEOUT_MARGIN,
                    response_format=STRUCTURED_OUTPUT if structured else None,
                )
            except Exception as exc:
                raise classify(exc, config, attempt) from None
        proposal = read_answer(answer)
        if proposal.spec is None:
            return proposal
        children = await self._catalogue.called_workflows(
            request.workspace, proposal.spec, names, tools
        )
        return checked(proposal, names, tools, children)

    async def _config(self, name: str, workspace: str) -> ModelConfig:
        try:
            config = await self._models.resolve(name, workspace)
        except UnknownModel as exc:
            raise ApplicationError(str(exc), type="UnknownModel", non_retryable=True) from None
        if config.api_base:
            # litellm connects by itself: its server is checked here, on every attempt.
            try:
                await check_url(config.api_base, self._egress)
            except EgressRefused as exc:
                raise ApplicationError(
                    f"model config '{config.name}': {exc}", type="EgressRefused", non_retryable=True
                ) from None
        return config


def messages(
    input: ProposeDefinitionInput, models: set[str], tools: Mapping[str, PinnedTool]
) -> list[dict[str, str]]:
    """The conversation: the instructions and the user's description, then, for a
    repair, the last answer and its errors."""
    request = input.request
    tool_names = [tool.name for tool in BUILTIN_TOOLS] + sorted(tools)
    system = INSTRUCTIONS.format(
        models=", ".join(f'"{name}"' for name in sorted(models)) or "none",
        model=request.model,
        tools=", ".join(tool_names),
        schema=json.dumps(SCHEMA, separators=(",", ":")),
    )
    conversation = [
        {"role": "system", "content": system},
        {"role": "user", "content": request.prompt},
    ]
    if input.repair is not None:
        errors = [error.model_dump(mode="json") for error in input.repair.errors]
        conversation += [
            {"role": "assistant", "content": input.repair.answer},
            {"role": "user", "content": REPAIR.format(errors=json.dumps(errors, indent=1))},
        ]
    return conversation


def read_answer(answer: str) -> Proposal:
    """The definition the answer holds, or why it holds none."""
    if len(answer) > MAX_ANSWER_CHARS:
        problem = f"the answer is {len(answer)} characters long; at most {MAX_ANSWER_CHARS}"
        return Proposal(
            answer=answer[:MAX_ANSWER_CHARS], errors=[CompileError(loc=[], msg=problem)]
        )
    spec = first_json_object(answer)
    if spec is None:
        problem = "the answer holds no JSON object; answer with the definition as JSON"
        return Proposal(answer=answer, errors=[CompileError(loc=[], msg=problem)])
    return Proposal(answer=answer, spec=spec)


def checked(
    proposal: Proposal,
    models: set[str],
    tools: Mapping[str, PinnedTool],
    children: Children,
) -> Proposal:
    """``proposal`` with what saving would say of its definition: the compiler's errors,
    against ``children`` (the saved definitions its ``workflow`` steps call, resolved),
    and the tasks' output schemas (api/output_schemas.py), so that a draft that passes
    here saves."""
    assert proposal.spec is not None
    errors = output_schema_errors(proposal.spec)
    try:
        validate_definition(proposal.spec, models, tools, children)
    except CompilationFailed as failed:
        errors = [*failed.errors, *errors]
    return proposal.model_copy(update={"errors": errors})


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, whatever surrounds it (prose, a ```json fence)."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            # What decodes from a "{" is an object.
            value: dict[str, Any] = decoder.raw_decode(text, start)[0]
            return value
        except ValueError:
            start = text.find("{", start + 1)
    return None
