"""Request and response bodies for runs. A run is addressed by its Temporal workflow id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from api.limits import run_inputs_within_limit, skip_output_within_limit
from workflows.definition import BudgetSpec
from workflows.run_state import AgentWorkflowResult, StepState
from workflows.status import RunStatus
from workflows.task_step import MICROS_PER_USD, TokenUsage, TranscriptEntry


class RunCreate(BaseModel):
    inputs: Annotated[dict[str, Any], AfterValidator(run_inputs_within_limit)] = {}
    version: int | None = None
    # With the definition's budget, the stricter of each limit holds.
    budget: BudgetSpec | None = None


class BudgetRead(BaseModel):
    """A run's limits now; null: not limited."""

    max_cost_usd: float | None
    max_tokens: int | None


class BudgetRaise(BaseModel):
    """New limits for a run: each one given replaces the run's, one left out stays."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["max_cost_usd"]}, {"required": ["max_tokens"]}]},
    )

    max_cost_usd: float = Field(default=None, gt=0, le=1e9, allow_inf_nan=False)  # type: ignore[assignment]
    max_tokens: int = Field(default=None, ge=1, le=2**53)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_limit_at_least(self) -> BudgetRaise:
        if self.max_cost_usd is None and self.max_tokens is None:
            raise ValueError("give max_cost_usd, max_tokens or both")
        return self

    def as_spec(self) -> BudgetSpec:
        return BudgetSpec(max_cost_usd=self.max_cost_usd, max_tokens=self.max_tokens)


class DecisionRequest(BaseModel):
    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=10_000)
    actor: str = Field(
        default="",
        max_length=200,
        deprecated=True,
        description="Ignored: the recorded actor is the signed-in principal",
    )
    round: int | None = Field(default=None, description="Refuse if the gate moved on")


# A pause can be in a run's history, and so on its page, before the workflow has applied
# it (engine/gates.py, result_in_flight): a request naming the execution it saw waits
# for it there instead of being refused.
SeenExecution = Annotated[
    int | None,
    Field(
        ge=1,
        description=(
            "The step's execution you saw paused (its `execution`); a pause in the"
            " run's history that the workflow has not applied yet is then waited for,"
            " not refused"
        ),
    ),
]


class RetryRequest(BaseModel):
    actor: str = Field(
        default="",
        max_length=200,
        deprecated=True,
        description="Ignored: the recorded actor is the signed-in principal",
    )
    execution: SeenExecution = None


class SkipRequest(BaseModel):
    output: Annotated[str, AfterValidator(skip_output_within_limit)] = Field(
        description="What the skipped step hands to the steps after it"
    )
    actor: str = Field(
        default="",
        max_length=200,
        deprecated=True,
        description="Ignored: the recorded actor is the signed-in principal",
    )
    execution: SeenExecution = None


class CancelAccepted(BaseModel):
    run_id: str
    status: Literal["cancel_requested"] = "cancel_requested"


class TemporalLink(BaseModel):
    namespace: str
    workflow_id: str
    run_id: str | None = None
    web_url: str


class StepRead(StepState):
    """A step as the API shows it: its output whole, its transcript inline, and what its
    LLM calls used and cost (zero for a step that made none)."""

    output_ref: str | None = Field(default=None, exclude=True)
    transcript_ref: str | None = Field(default=None, exclude=True)
    transcript: list[TranscriptEntry] = []
    usage: TokenUsage = TokenUsage()  # type: ignore[assignment]

    @field_validator("usage", mode="before")
    @classmethod
    def _none_is_nothing_used(cls, usage: Any) -> Any:
        return TokenUsage() if usage is None else usage

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_micros(self) -> int:
        return self.usage.cost_micros

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float:
        return self.usage.cost_micros / MICROS_PER_USD


class RunCreated(BaseModel):
    run_id: str
    workflow_id: uuid.UUID
    version: int
    status: RunStatus
    temporal: TemporalLink


class RunSummary(BaseModel):
    run_id: str
    workflow_id: uuid.UUID | None
    workflow_name: str
    version: int
    status: RunStatus
    started_at: datetime | None
    closed_at: datetime | None
    temporal: TemporalLink
    # What the run's LLM calls cost so far, child runs' included (KasalCostMicros).
    cost_micros: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float:
        return self.cost_micros / MICROS_PER_USD


class ForkedFrom(BaseModel):
    run_id: str
    step_id: str


class RunRead(RunSummary):
    steps: list[StepRead]
    usage: TokenUsage = TokenUsage()
    result: AgentWorkflowResult | None
    # Set on a run started by POST /runs/{run_id}/fork; a parent lists its forks' run ids.
    forked_from: ForkedFrom | None = None
    forks: list[str] = []
    # The run's trace in the trace viewer (KASAL_TRACE_URL_TEMPLATE), when the request that
    # started it was traced.
    trace_url: str | None = None


class RunPage(BaseModel):
    items: list[RunSummary]
    next_page_token: str | None


class HistoryEvent(BaseModel):
    event_id: int
    time: datetime
    type: str
    step_id: str | None = None
    details: dict[str, Any] = {}


class PendingApproval(BaseModel):
    run_id: str
    workflow_id: uuid.UUID | None
    workflow_name: str
    version: int
    step_id: str
    message: str
    round: int
    waiting_since: datetime | None
    deadline: datetime | None
    approvers: list[str] = Field(
        default=[], description="Who may decide: emails and role names; none means operators"
    )


class ApprovalPage(BaseModel):
    items: list[PendingApproval]
    next_page_token: str | None = Field(description="Null on the last page")
