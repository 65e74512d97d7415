"""What a step's child run executes: a plan built in the workflow, deterministically.

- A map's chunk: the template once per item, each copy's ids suffixed with the item's
  index (``summarize-7``), ``{item}`` and ``{index}`` rendered, all in one plan that runs
  ``max_parallel`` tasks at a time. Each item's failure pauses only that item's step.
- A loop's iteration: the template as is, ``{iteration}`` rendered, its first steps
  given the previous iteration's outputs.
- A sub-workflow: the definition pinned when the parent compiled, with its inputs.

The first steps of a map's or loop's template read the map's or loop's own upstream
outputs as context, as a task in its place would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from workflows.branch_checks import TemplateStep
from workflows.compiler import CompilationFailed, resolve_inputs
from workflows.definition import ConditionStep, RouterStep
from workflows.engine.branches import as_text
from workflows.engine.child_steps import item_step_id
from workflows.engine.events import StartChild
from workflows.engine.state import RunData
from workflows.plan import (
    AnyPlanStep,
    GivenContext,
    Plan,
    PlanLoopStep,
    PlanMapStep,
    PlanTaskStep,
    PlanWorkflowStep,
)
from workflows.plan_building import build_plan, plan_steps, topological
from workflows.status import RunStatus

CHILD_STATUS_SIGNAL = "child_status"


class ChildStatus(BaseModel):
    """What a child run tells its parent when its status changes (a signal)."""

    step_id: str
    child_run_id: str
    status: RunStatus


def child_run_id(parent_run_id: str, step_id: str, execution: int) -> str:
    return f"{parent_run_id}.{step_id}.{execution}"


def parse_child_run_id(child_id: str) -> tuple[str, int] | None:
    """The step and execution a child run was started for (step ids hold no dot)."""
    rest, _, execution = child_id.rpartition(".")
    step_id = rest.rpartition(".")[2]
    return (step_id, int(execution)) if step_id and execution.isdigit() else None


def child_plan(
    plan: Plan, step: AnyPlanStep, command: StartChild, run: RunData, parent_run_id: str
) -> Plan:
    meta = plan.meta.model_copy(update={"parent_run_id": parent_run_id, "parent_step_id": step.id})
    if isinstance(step, PlanWorkflowStep):
        child = step.child
        values, errors = resolve_inputs(child.definition, command.inputs)
        if errors:
            raise CompilationFailed(errors)
        built = build_plan(child.definition, values, child.tools, child.children)
        return built.model_copy(
            update={
                "meta": meta.model_copy(
                    update={
                        "workflow_id": child.workflow_id,
                        "workflow_name": child.workflow_name,
                        "version": child.version,
                        "webhook_url": built.meta.webhook_url or plan.meta.webhook_url,
                    }
                )
            }
        )
    assert isinstance(step, PlanMapStep | PlanLoopStep)
    upstream = _upstream_context(run, step.context_from)
    steps: list[AnyPlanStep] = []
    if isinstance(step, PlanMapStep):
        for offset, item in enumerate(command.items):
            index = command.first_index + offset
            values = {**plan.inputs, "item": as_text(item), "index": str(index)}
            copies = [_renamed(template, index) for template in step.steps]
            steps += _given(plan_steps(topological(copies), values), upstream)
        max_parallel = step.max_parallel
    else:
        values = {**plan.inputs, "iteration": str(command.iteration)}
        previous = [
            GivenContext(step_id=f"{step_id} (iteration {command.iteration - 1})", output=output)
            for step_id, output in run.loop_outputs.get(step.id, {}).items()
        ]
        steps = _given(plan_steps(topological(step.steps), values), upstream + previous)
        max_parallel = plan.max_parallel
    return Plan(
        inputs=plan.inputs,
        agents=plan.agents,
        steps=steps,
        max_parallel=max_parallel,
        meta=meta,
        tools=plan.tools,
    )


def _upstream_context(run: RunData, step_ids: Sequence[str]) -> list[GivenContext]:
    return [
        GivenContext(step_id=step_id, output=state.output, output_ref=state.output_ref)
        for step_id in step_ids
        if (state := run.steps[step_id]).output is not None
    ]


def _given(steps: list[AnyPlanStep], context: list[GivenContext]) -> list[AnyPlanStep]:
    """The template's first tasks read what a task in the map's or loop's place would."""
    if not context:
        return steps
    return [
        step.model_copy(update={"given_context": context})
        if isinstance(step, PlanTaskStep) and not step.after
        else step
        for step in steps
    ]


def _renamed(template: TemplateStep, index: int) -> TemplateStep:
    """An item's copy of a template step, with every id it names suffixed."""

    def ids(values: Sequence[str]) -> list[str]:
        return [item_step_id(value, index) for value in values]

    update: dict[str, Any] = {"id": item_step_id(template.id, index), "after": ids(template.after)}
    if isinstance(template, ConditionStep):
        update |= {"then": ids(template.then), "else_": ids(template.else_)}
    elif isinstance(template, RouterStep):
        update["targets"] = {name: ids(targets) for name, targets in template.targets.items()}
    return template.model_copy(update=update)
