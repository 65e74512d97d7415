"""The compiled plan: what a run executes, pinned in the Temporal workflow's input.

A plan is a definition with its placeholders rendered, its steps in a stable
topological order and each step's upstream context resolved. It names model
configs and tools but never carries their secrets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from workflows.definition import (
    AgentSpec,
    ApprovalStep,
    ConditionStep,
    LoopStep,
    MapStep,
    RouterStep,
    TaskStep,
    WorkflowCallStep,
    WorkflowDefinition,
)
from workflows.tools import PinnedTool

# A plan's step ids are the compiler's: a map's items and a loop's iterations suffix
# the template's ids, so they may be longer than an author may write.


class GivenContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    step_id: str
    output: str
    output_ref: str | None = None


class PlanTaskStep(TaskStep):
    id: str
    # The nearest upstream steps with an output, looking through approval gates and
    # branches: their outputs are this task's context.
    context_from: list[str] = []
    # Outputs from outside this plan: a map's or loop's upstream, a loop's last iteration.
    given_context: list[GivenContext] = []


class PlanApprovalStep(ApprovalStep):
    id: str
    # The nearest upstream task steps: what "retry_upstream" runs again.
    upstream_tasks: list[str] = []


class PlanConditionStep(ConditionStep):
    id: str


class PlanRouterStep(RouterStep):
    id: str


class PlanMapStep(MapStep):
    id: str
    context_from: list[str] = []


class PlanLoopStep(LoopStep):
    id: str
    context_from: list[str] = []


class ChildWorkflow(BaseModel):
    """A saved definition a ``workflow`` step runs, pinned when the parent compiled."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    workflow_name: str
    version: int
    definition: WorkflowDefinition
    # Its agents' tools, pinned like the parent's, and its own workflow steps' children.
    tools: dict[str, PinnedTool] = {}
    children: dict[str, ChildWorkflow] = {}


class PlanWorkflowStep(WorkflowCallStep):
    id: str
    child: ChildWorkflow


PlanStep = Annotated[
    PlanTaskStep
    | PlanApprovalStep
    | PlanConditionStep
    | PlanRouterStep
    | PlanMapStep
    | PlanLoopStep
    | PlanWorkflowStep,
    Field(discriminator="type"),
]
AnyPlanStep = (
    PlanTaskStep
    | PlanApprovalStep
    | PlanConditionStep
    | PlanRouterStep
    | PlanMapStep
    | PlanLoopStep
    | PlanWorkflowStep
)


class RunMeta(BaseModel):
    """Where a plan came from, for summaries, search attributes and notifications."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str = ""
    workflow_name: str = ""
    version: int = 0
    webhook_url: str | None = None
    # A Slack-compatible incoming webhook for approver notices (workflows/approver_notice.py).
    slack_webhook_url: str | None = None
    app_url: str | None = None  # where people open Kasal
    temporal_web_url: str | None = None  # Temporal Web's base, for links to the run
    # The run's workspace, whose secret signs its webhooks; a default so that histories
    # written before workspaces still decode.
    workspace: str = "default"
    # With payload encryption on, Temporal still stores summaries in plain text: they then
    # name steps by id only, never by what a person wrote.
    content_free_summaries: bool = False
    # A child run (a map's chunk, a loop's iteration, a sub-workflow): the run and step
    # that started it, told whenever the child's status changes.
    parent_run_id: str | None = None
    parent_step_id: str | None = None


class BudgetLimits(BaseModel):
    """A run's limits, cost in micro-dollars; None: that one is not limited."""

    model_config = ConfigDict(frozen=True)

    max_cost_micros: int | None = None
    max_tokens: int | None = None

    def stricter(self, other: BudgetLimits | None) -> BudgetLimits:
        """Each limit at the lower of the two (a definition's and a run request's)."""
        if other is None:
            return self
        return BudgetLimits(
            max_cost_micros=_lower(self.max_cost_micros, other.max_cost_micros),
            max_tokens=_lower(self.max_tokens, other.max_tokens),
        )


def _lower(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    inputs: dict[str, str]
    agents: dict[str, AgentSpec]
    steps: list[PlanStep]
    max_parallel: int = 16
    meta: RunMeta = RunMeta()
    # Every tool an agent names, by that name, pinned at the version the run compiled.
    tools: dict[str, PinnedTool] = {}
    budget: BudgetLimits | None = None

    def step(self, step_id: str) -> AnyPlanStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def sink_ids(self) -> list[str]:
        """Steps nothing depends on, in plan order: together they give the final output."""
        depended_on = {dep for step in self.steps for dep in step.after}
        return [step.id for step in self.steps if step.id not in depended_on]
