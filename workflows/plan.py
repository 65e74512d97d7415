"""The compiled plan: what a run executes, pinned in the Temporal workflow's input.

A plan is a definition with its placeholders rendered, its steps in a stable
topological order and each step's upstream context resolved. It names model
configs and tools but never carries their secrets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from workflows.definition import AgentSpec, ApprovalStep, TaskStep
from workflows.tools import PinnedTool


class PlanTaskStep(TaskStep):
    # The nearest upstream task steps, looking through approval gates: their
    # outputs are this task's context.
    context_from: list[str] = []


class PlanApprovalStep(ApprovalStep):
    # The nearest upstream task steps: what "retry_upstream" runs again.
    upstream_tasks: list[str] = []


PlanStep = Annotated[PlanTaskStep | PlanApprovalStep, Field(discriminator="type")]


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


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    inputs: dict[str, str]
    agents: dict[str, AgentSpec]
    steps: list[PlanStep]
    max_parallel: int = 16
    meta: RunMeta = RunMeta()
    # Every tool an agent names, by that name, pinned at the version the run compiled.
    tools: dict[str, PinnedTool] = {}

    def step(self, step_id: str) -> PlanTaskStep | PlanApprovalStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def sink_ids(self) -> list[str]:
        """Steps nothing depends on, in plan order: together they give the final output."""
        depended_on = {dep for step in self.steps for dep in step.after}
        return [step.id for step in self.steps if step.id not in depended_on]
