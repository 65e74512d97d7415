"""Build the plan of a checked definition: placeholders rendered once, steps in one fixed
topological order with the upstream outputs each reads, tools pinned, the budget as
limits. The compiler (workflows/compiler.py) checks a definition first; a child run's
plan is built here too (workflows/children.py)."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from workflows.branch_checks import AnyDefinitionStep, workflow_key
from workflows.definition import (
    ApprovalStep,
    BudgetSpec,
    ConditionStep,
    LoopStep,
    MapStep,
    RouterStep,
    TaskStep,
    WorkflowDefinition,
)
from workflows.plan import (
    AnyPlanStep,
    BudgetLimits,
    ChildWorkflow,
    Plan,
    PlanApprovalStep,
    PlanConditionStep,
    PlanLoopStep,
    PlanMapStep,
    PlanRouterStep,
    PlanTaskStep,
    PlanWorkflowStep,
    RunMeta,
)
from workflows.task_step import MICROS_PER_USD
from workflows.tools import PinnedTool, resolve_tool

# "{{" and "}}" are literal braces; "{name}" is a placeholder; anything else with a
# brace is malformed.
PLACEHOLDER_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

# The definitions ``workflow`` steps call, by ``name@version`` (branch_checks.workflow_key),
# as the caller resolved them, or why it could not.
Children = Mapping[str, ChildWorkflow | str]
NO_CHILDREN: Children = MappingProxyType({})


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill placeholders once; the result is final text and is never interpolated again."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values[match.group(1)]

    return PLACEHOLDER_TOKEN.sub(replace, text)


def build_plan(
    parsed: WorkflowDefinition,
    values: Mapping[str, str],
    tools: Mapping[str, PinnedTool],
    children: Children = NO_CHILDREN,
) -> Plan:
    """The plan of a checked definition with its input values (a child run's too)."""
    agents = {
        agent.id: agent.model_copy(
            update={
                name: render(getattr(agent, name), values) for name in ("role", "goal", "backstory")
            }
        )
        for agent in parsed.agents
    }
    steps = plan_steps(topological(parsed.steps), values, children)
    webhook_url = parsed.notify.webhook_url if parsed.notify else None
    slack_webhook_url = parsed.notify.slack_webhook_url if parsed.notify else None
    pinned: dict[str, PinnedTool] = {}
    for agent in parsed.agents:
        for name in agent.tools:
            if name not in pinned:
                tool = resolve_tool(name, tools)
                assert tool is not None, "unknown tools are rejected before building"
                # Keyed, and named, as the agents write it.
                pinned[name] = tool if tool.name == name else tool.model_copy(update={"name": name})
    return Plan(
        inputs=dict(values),
        agents=agents,
        steps=steps,
        max_parallel=parsed.max_parallel,
        meta=RunMeta(webhook_url=webhook_url, slack_webhook_url=slack_webhook_url),
        tools=pinned,
        budget=budget_limits(parsed.budget),
    )


def budget_limits(spec: BudgetSpec | None) -> BudgetLimits | None:
    """A definition's or a run request's budget as limits; cost in micro-dollars."""
    if spec is None or (spec.max_cost_usd is None and spec.max_tokens is None):
        return None
    cost = spec.max_cost_usd
    return BudgetLimits(
        max_cost_micros=None if cost is None else round(cost * MICROS_PER_USD),
        max_tokens=spec.max_tokens,
    )


def plan_steps(
    ordered: Iterable[AnyDefinitionStep],
    values: Mapping[str, str],
    children: Children = NO_CHILDREN,
) -> list[AnyPlanStep]:
    """Steps in topological order, rendered, each with the upstream outputs it reads.

    What a step hands downstream as context: its own output if it has one (a task, a
    map, a loop, a sub-workflow), else (a gate, a condition, a router) the nearest
    outputs above it. Each step is visited once.
    """
    hands_on: dict[str, list[str]] = {}
    steps: list[AnyPlanStep] = []
    for step in ordered:
        upstream: list[str] = []
        for dep in step.after:
            upstream += [task for task in hands_on.get(dep, []) if task not in upstream]
        fields = step.model_dump(by_alias=True)
        hands_on[step.id] = [step.id]
        if isinstance(step, ApprovalStep):
            hands_on[step.id] = upstream
            steps.append(PlanApprovalStep(**fields, upstream_tasks=upstream))
        elif isinstance(step, TaskStep):
            fields["description"] = render(step.description, values)
            fields["expected_output"] = render(step.expected_output, values)
            steps.append(PlanTaskStep(**fields, context_from=upstream))
        elif isinstance(step, ConditionStep):
            hands_on[step.id] = upstream
            steps.append(PlanConditionStep.model_validate(fields))
        elif isinstance(step, RouterStep):
            hands_on[step.id] = upstream
            steps.append(PlanRouterStep.model_validate(fields))
        elif isinstance(step, MapStep):
            steps.append(PlanMapStep(**fields, context_from=upstream))
        elif isinstance(step, LoopStep):
            steps.append(PlanLoopStep(**fields, context_from=upstream))
        else:
            child = children[workflow_key(step)]
            assert isinstance(child, ChildWorkflow), "unresolved workflows are rejected"
            fields["inputs"] = {
                name: render(value, values) if isinstance(value, str) else value
                for name, value in step.inputs.items()
            }
            steps.append(PlanWorkflowStep(**fields, child=child))
    return steps


def topological(steps: Sequence[AnyDefinitionStep]) -> list[AnyDefinitionStep]:
    """Kahn's algorithm, always taking the earliest ready step in definition order.

    The order must not depend on hashing, so that every process builds the same plan.
    """
    waiting_on = [len(s.after) for s in steps]
    dependents: dict[str, list[int]] = {s.id: [] for s in steps}
    for i, step in enumerate(steps):
        for dep in step.after:
            dependents[dep].append(i)
    ready = [i for i, count in enumerate(waiting_on) if count == 0]
    heapq.heapify(ready)
    ordered: list[AnyDefinitionStep] = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(steps[i])
        for dependent in dependents[steps[i].id]:
            waiting_on[dependent] -= 1
            if waiting_on[dependent] == 0:
                heapq.heappush(ready, dependent)
    assert len(ordered) == len(steps), "cycles are rejected before building"
    return ordered
