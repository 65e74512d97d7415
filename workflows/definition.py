"""The workflow definition: the public JSON contract that authors write and the API stores.

Field names here are fixed by the contract; only optional fields may be added.
Structural rules (types, ranges, required fields) live on the models; rules that
need the whole document (references, cycles, placeholders) live in the compiler.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
INPUT_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
InputName = Annotated[str, Field(pattern=INPUT_NAME_PATTERN)]
Text = Annotated[str, Field(min_length=1)]
# An email, or a role name: viewer, operator, editor or admin.
Approver = Annotated[
    str, Field(pattern=r"^(viewer|operator|editor|admin|[^@\s]+@[^@\s]+)$", max_length=320)
]


class _Strict(BaseModel):
    # Unknown fields are refused so that a typo ("afer") is an error, not a silent default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    name: InputName
    description: str = ""
    required: bool = True
    default: str | None = None


class AgentSpec(_Strict):
    id: Id
    role: Text
    goal: Text
    backstory: Text
    llm: Text
    tools: list[str] = []
    max_iter: int = Field(default=5, ge=1, le=50)


class _Keyworded(_Strict):
    # "if" and "else" are Python keywords: the fields are if_/else_, read and written as
    # "if"/"else", which is what authors and the API see.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )


# How a step with several dependencies starts (README, "Branches and joins"):
# "all" when none of its after is still open and at least one was taken; "any" as soon
# as the first is taken.
Join = Literal["all", "any"]
# An expression (workflows/expressions.py), evaluated in the workflow.
Expr = Annotated[str, Field(min_length=1, max_length=2000)]


class RetrySpec(_Strict):
    max_attempts: int = Field(default=3, ge=1, le=100)
    initial_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    backoff: float = Field(default=2.0, ge=1.0, le=10.0)


class TaskStep(_Strict):
    id: Id
    type: Literal["task"]
    agent: Id
    description: Text
    expected_output: Text
    after: list[Id] = []
    retry: RetrySpec = RetrySpec()
    timeout_seconds: float = Field(default=600, gt=0, le=86_400)
    on_failure: Literal["pause", "fail"] = "pause"
    join: Join = "all"
    # A JSON Schema the output must meet: it is parsed and validated, with one repair
    # round, so that conditions and routers can rely on its fields.
    output_schema: dict[str, Any] | None = None


class ApprovalStep(_Strict):
    id: Id
    type: Literal["approval"]
    after: list[Id] = []
    message: Text
    timeout_seconds: float = Field(default=86_400, gt=0, le=365 * 86_400)
    on_timeout: Literal["approve", "reject", "fail"] = "reject"
    on_reject: Literal["end", "retry_upstream"] = "end"
    max_rejections: int = Field(default=3, ge=1, le=100)
    # Who may decide: emails, and role names (a role admits the roles above it too).
    # Without approvers, operators and above decide.
    approvers: list[Approver] = Field(default=[], max_length=100)
    # While the gate waits: remind its approvers after this long, and after that long
    # tell escalate_to, who may then decide too (README, "Approvals").
    remind_after_seconds: float | None = Field(default=None, gt=0, le=365 * 86_400)
    escalate_after_seconds: float | None = Field(default=None, gt=0, le=365 * 86_400)
    escalate_to: list[Approver] = Field(default=[], max_length=100)
    join: Join = "all"

    @model_validator(mode="after")
    def _escalation_names_whom(self) -> ApprovalStep:
        if (self.escalate_after_seconds is None) != (not self.escalate_to):
            raise ValueError("escalate_after_seconds and escalate_to go together")
        return self


class ConditionStep(_Keyworded):
    """Takes the steps in ``then`` when ``if`` holds, else those in ``else``; the others
    end ``not_taken``."""

    id: Id
    type: Literal["condition"]
    after: list[Id] = []
    join: Join = "all"
    if_: Expr = Field(alias="if")
    then: list[Id] = []
    else_: list[Id] = Field(default=[], alias="else")


class Route(_Keyworded):
    name: Id
    if_: Expr = Field(alias="if")


class RouterStep(_Strict):
    """Tries ``routes`` in order; the first that holds (else ``default``) chooses the
    steps in ``targets`` under its name; the steps of the other routes end ``not_taken``."""

    id: Id
    type: Literal["router"]
    after: list[Id] = []
    join: Join = "all"
    routes: list[Route] = Field(min_length=1, max_length=100)
    default: Id
    targets: dict[str, list[Id]]


class ExprValue(_Strict):
    """An input value computed from upstream outputs and the run's inputs."""

    expr: Expr


# A sub-plan's steps: tasks and gates, and branches between them.
TemplateStep = Annotated[
    TaskStep | ApprovalStep | ConditionStep | RouterStep, Field(discriminator="type")
]


class MapStep(_Strict):
    """Runs ``steps`` once per item of the JSON list ``items``, ``max_parallel`` at a
    time; its output is the JSON list of each item's last output, in item order.
    Templates may write ``{item}`` and ``{index}``."""

    id: Id
    type: Literal["map"]
    after: list[Id] = []
    join: Join = "all"
    items: Expr
    steps: list[TemplateStep] = Field(min_length=1)
    max_parallel: int = Field(default=8, ge=1, le=1000)
    # Items run in child runs of this many each, one chunk after another, so that no
    # history grows without bound and no run nears Temporal's 2,000 pending activities.
    chunk_size: int = Field(default=100, ge=1, le=1000)


class LoopStep(_Strict):
    """Runs ``steps`` again and again, each iteration seeing the previous one's outputs,
    until ``until`` holds or ``max_iterations`` have run."""

    id: Id
    type: Literal["loop"]
    after: list[Id] = []
    join: Join = "all"
    steps: list[TemplateStep] = Field(min_length=1)
    until: Expr
    max_iterations: int = Field(default=10, ge=1, le=10_000)


class WorkflowCallStep(_Strict):
    """Runs another saved definition, pinned to a version when the run compiles, as a
    child workflow. Inputs are templates like descriptions, or ``{"expr": …}``."""

    id: Id
    type: Literal["workflow"]
    after: list[Id] = []
    join: Join = "all"
    workflow: Text
    version: int | Literal["latest"] = "latest"
    inputs: dict[str, str | ExprValue] = {}


Step = Annotated[
    TaskStep | ApprovalStep | ConditionStep | RouterStep | MapStep | LoopStep | WorkflowCallStep,
    Field(discriminator="type"),
]


class NotifySpec(_Strict):
    webhook_url: str | None = None
    # A Slack-compatible incoming webhook that hears when a gate waits for its approvers.
    slack_webhook_url: str | None = None


class BudgetSpec(_Strict):
    """A run's spending limits: its LLM calls pause before one would cross either."""

    # Bounded so that micro-dollars fit a 64-bit integer anywhere they are kept.
    max_cost_usd: float | None = Field(default=None, gt=0, le=1e9, allow_inf_nan=False)
    max_tokens: int | None = Field(default=None, ge=1, le=2**53)


class WorkflowDefinition(_Strict):
    inputs: list[InputSpec] = []
    agents: list[AgentSpec] = []
    steps: list[Step] = Field(min_length=1)
    max_parallel: int = Field(default=16, ge=1, le=1000)
    notify: NotifySpec | None = None
    budget: BudgetSpec | None = None
