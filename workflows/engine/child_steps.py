"""The rules of the steps that decide or run child runs, as the reducer applies them.

A condition or router decides as soon as its join allows, inside the same event: it
completes with the branch as its output. A map, a loop or a sub-workflow runs child
runs, one at a time, each a whole ``AgentWorkflowV2`` run (workflows/children.py builds
its plan): a map runs its items in chunks of ``chunk_size``, a loop one iteration per
child, a sub-workflow one child. Between children the step goes back to the ready queue,
so ``max_parallel``, draining and continue-as-new apply to it as to a task. An
expression that cannot be evaluated pauses the step with the reason, like a failed task.
"""

from __future__ import annotations

import json
from datetime import datetime

from workflows.engine.branches import Expressions, as_text, choose, scope_of
from workflows.engine.events import ChildFinished, StartChild
from workflows.engine.state import RunData
from workflows.expression_eval import EvaluationError, as_json
from workflows.plan import (
    AnyPlanStep,
    Plan,
    PlanConditionStep,
    PlanLoopStep,
    PlanMapStep,
    PlanRouterStep,
    PlanWorkflowStep,
)
from workflows.run_state import StepState
from workflows.status import StepStatus


def choose_branch(
    run: RunData,
    plan: Plan,
    expressions: Expressions,
    state: StepState,
    step: PlanConditionStep | PlanRouterStep,
    at: datetime,
) -> bool:
    """Decide the branch; False (with the error set) when the expression cannot say."""
    state.started_at = state.started_at or at
    try:
        branch = choose(step, scope_of(run, plan), expressions)
    except EvaluationError as error:
        state.error = f"cannot decide: {error}"
        return False
    state.branch = state.output = branch
    state.error = None
    state.status = StepStatus.COMPLETED
    state.finished_at = at
    return True


def child_start(
    run: RunData,
    plan: Plan,
    expressions: Expressions,
    state: StepState,
    step: AnyPlanStep,
    at: datetime,
) -> StartChild | None:
    """Start the step's next child; None when it paused (error set) or completed at once."""
    try:
        command = _next_child(run, plan, expressions, state, step)
    except EvaluationError as error:
        state.error = str(error)
        state.status = StepStatus.PAUSED
        return None
    if command is None:
        state.output = "[]"
        state.status = StepStatus.COMPLETED
        state.finished_at = at
        return None
    state.status = StepStatus.RUNNING
    state.execution += 1
    state.attempt = max(state.attempt, 1)
    return command.model_copy(update={"execution": state.execution})


def _next_child(
    run: RunData, plan: Plan, expressions: Expressions, state: StepState, step: AnyPlanStep
) -> StartChild | None:
    if isinstance(step, PlanMapStep):
        if state.id not in run.map_items:
            items = as_json(as_text(expressions.value(step.items, scope_of(run, plan))))
            if not isinstance(items, list):
                raise EvaluationError(f"items is not a JSON list: {str(items)[:200]}")
            run.map_items[state.id] = items
            run.map_outputs[state.id] = []
            state.items_total = len(items)
        first = state.items_done
        chunk = run.map_items[state.id][first : first + step.chunk_size]
        if not chunk:
            return None
        return StartChild(step_id=state.id, execution=0, items=chunk, first_index=first)
    if isinstance(step, PlanLoopStep):
        state.iteration += 1
        return StartChild(step_id=state.id, execution=0, iteration=state.iteration)
    assert isinstance(step, PlanWorkflowStep)
    scope = scope_of(run, plan)
    inputs = {
        name: value if isinstance(value, str) else as_text(expressions.value(value.expr, scope))
        for name, value in step.inputs.items()
    }
    return StartChild(step_id=state.id, execution=0, inputs=inputs)


def child_finished(
    run: RunData,
    plan: Plan,
    expressions: Expressions,
    state: StepState,
    step: AnyPlanStep,
    event: ChildFinished,
) -> bool:
    """Take a child's completed result: the step completes, or goes back to pending for
    its next chunk or iteration. False (with the error set) when ``until`` cannot say."""
    if isinstance(step, PlanMapStep):
        first = state.items_done
        count = len(run.map_items[state.id][first : first + step.chunk_size])
        run.map_outputs[state.id] += [
            item_output(step, event.outputs, index) for index in range(first, first + count)
        ]
        state.items_done += count
        if state.items_done < (state.items_total or 0):
            state.status = StepStatus.PENDING
            return True
        _complete(state, json.dumps(run.map_outputs[state.id]))
        return True
    if isinstance(step, PlanLoopStep):
        run.loop_outputs[state.id] = dict(event.outputs)
        scope = scope_of(run, plan, {"iteration": state.iteration}, event.outputs)
        try:
            done = expressions.holds(step.until, scope)
        except EvaluationError as error:
            state.error = f"cannot decide whether the loop is done: {error}"
            return False
        if not done and state.iteration < step.max_iterations:
            state.status = StepStatus.PENDING
            return True
        last = [event.outputs[s.id] for s in step.steps if s.id in event.outputs]
        _complete(state, last[-1] if last else "")
        return True
    _complete(state, event.final_output)
    return True


def item_output(step: PlanMapStep, outputs: dict[str, str], index: int) -> str:
    """An item's output: its last template step's (in template order) that has one."""
    for template in reversed(step.steps):
        output = outputs.get(item_step_id(template.id, index))
        if output is not None:
            return output
    return ""


def item_step_id(template_id: str, index: int) -> str:
    """A map item's copy of a template step: unique, since an index has no dash."""
    return f"{template_id}-{index}"


def _complete(state: StepState, output: str) -> None:
    state.status = StepStatus.COMPLETED
    state.output = output
    state.error = None
