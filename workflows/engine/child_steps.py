"""The rules of the steps that decide or run child runs, as the reducer applies them.

A condition or router decides as soon as its join allows, inside the same event: it
completes with the branch as its output. A map, a loop or a sub-workflow runs child
runs, one at a time, each a whole ``AgentWorkflowV2`` run (workflows/children.py builds
its plan): a map runs its items in chunks of ``chunk_size``, a loop one iteration per
child, a sub-workflow one child. Between children the step goes back to the ready queue,
so ``max_parallel``, draining and continue-as-new apply to it as to a task. An
expression that cannot be evaluated pauses the step with the reason, like a failed task.

A map's results: the JSON list of each item's last output, in item order. While the
whole list fits in a preview (``INLINE_OUTPUT_LIMIT``) and no item's output is itself a
blob, the run holds it as text. Beyond that, after each chunk the step stays running
while ``StoreMapResults`` stores what the run holds as a batch blob, and keeps only the
batch's id; after the last chunk it stores the whole list, and the map's output is its
preview and blob, as a large task output is. So a map of thousands of items carries a
few ids across continue-as-new, never its results. Results that were not stored yet
(the store failed, the step paused) are stored first when the step is retried: a map is
never completed without them, and no item runs again.
"""

from __future__ import annotations

import json
from datetime import datetime

from workflows.engine.branches import Expressions, as_text, choose, scope_of
from workflows.engine.events import (
    ChildFinished,
    Command,
    MapResultsStored,
    StartChild,
    StoreMapResults,
)
from workflows.engine.state import MapEntry, RunData
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
from workflows.task_step import INLINE_OUTPUT_LIMIT


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
) -> StartChild | StoreMapResults | None:
    """Start the step's next child (or store a map's results that were not stored);
    None when it paused (error set) or completed at once."""
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
) -> StartChild | StoreMapResults | None:
    if isinstance(step, PlanMapStep):
        if run.map_unstored.get(state.id):
            return _store(run, state)
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
    commands: list[Command],
) -> bool:
    """Take a child's completed result: the step completes, goes back to pending for its
    next chunk or iteration, or (a map) stays running while its results are stored.
    False (with the error set) when ``until`` cannot say."""
    if isinstance(step, PlanMapStep):
        _map_chunk_finished(run, step, state, event, commands)
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


def _map_chunk_finished(
    run: RunData,
    step: PlanMapStep,
    state: StepState,
    event: ChildFinished,
    commands: list[Command],
) -> None:
    first = state.items_done
    count = len(run.map_items[state.id][first : first + step.chunk_size])
    entries = [item_entry(step, event, index) for index in range(first, first + count)]
    state.items_done += count
    held = run.map_outputs[state.id] + [entry.output for entry in entries]
    small = all(entry.output_ref is None for entry in entries)
    if small and not run.map_batches.get(state.id) and _fits_inline(held):
        run.map_outputs[state.id] = held
        if _map_done(state):
            _complete(state, json.dumps(held))
        else:
            state.status = StepStatus.PENDING
        return
    run.map_unstored[state.id] = [MapEntry(output=text) for text in run.map_outputs[state.id]]
    run.map_unstored[state.id] += entries
    run.map_outputs[state.id] = []
    commands.append(_store(run, state))


def map_results_stored(run: RunData, state: StepState, event: MapResultsStored) -> None:
    """A batch was stored: the next chunk may start. The whole list: the map completes."""
    run.map_unstored.pop(state.id, None)
    if _map_done(state):
        _complete(state, event.preview)
        state.output_ref = event.ref
        run.map_batches.pop(state.id, None)
        return
    run.map_batches.setdefault(state.id, []).append(event.ref)
    state.status = StepStatus.PENDING


def _store(run: RunData, state: StepState) -> StoreMapResults:
    done = _map_done(state)
    return StoreMapResults(
        step_id=state.id,
        execution=state.execution,
        entries=run.map_unstored[state.id],
        batch_refs=run.map_batches.get(state.id, []) if done else [],
        final=done,
    )


def _map_done(state: StepState) -> bool:
    return state.items_done >= (state.items_total or 0)


def _fits_inline(outputs: list[str]) -> bool:
    return len(json.dumps(outputs)) <= INLINE_OUTPUT_LIMIT


def item_entry(step: PlanMapStep, event: ChildFinished, index: int) -> MapEntry:
    """An item's result: its last template step's (in template order) that has one."""
    for template in reversed(step.steps):
        step_id = item_step_id(template.id, index)
        output = event.outputs.get(step_id)
        if output is not None:
            return MapEntry(output=output, output_ref=event.output_refs.get(step_id))
    return MapEntry()


def item_step_id(template_id: str, index: int) -> str:
    """A map item's copy of a template step: unique, since an index has no dash."""
    return f"{template_id}-{index}"


def _complete(state: StepState, output: str) -> None:
    state.status = StepStatus.COMPLETED
    state.output = output
    state.error = None
