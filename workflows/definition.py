"""The workflow definition: the public JSON contract that authors write and the API stores.

Field names here are fixed by the contract; only optional fields may be added.
Structural rules (types, ranges, required fields) live on the models; rules that
need the whole document (references, cycles, placeholders) live in the compiler.
"""

from __future__ import annotations

from typing import Annotated, Literal

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

    @model_validator(mode="after")
    def _escalation_names_whom(self) -> ApprovalStep:
        if (self.escalate_after_seconds is None) != (not self.escalate_to):
            raise ValueError("escalate_after_seconds and escalate_to go together")
        return self


Step = Annotated[TaskStep | ApprovalStep, Field(discriminator="type")]


class NotifySpec(_Strict):
    webhook_url: str | None = None
    # A Slack-compatible incoming webhook that hears when a gate waits for its approvers.
    slack_webhook_url: str | None = None


class WorkflowDefinition(_Strict):
    inputs: list[InputSpec] = []
    agents: list[AgentSpec] = []
    steps: list[Step] = Field(min_length=1)
    max_parallel: int = Field(default=16, ge=1, le=1000)
    notify: NotifySpec | None = None
