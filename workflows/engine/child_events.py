"""What a map's chunk, a loop's iteration or a sub-workflow ending does to the run, and a
map's results once stored (the rules of those steps are in engine/child_steps.py)."""

from __future__ import annotations

from datetime import datetime

from workflows.engine.child_steps import child_finished, map_results_stored
from workflows.engine.events import ChildFinished, MapResultsStored
from workflows.engine.state import RunData
from workflows.engine.transitions import (
    PlanGraph,
    Transition,
    close,
    current_execution,
    enqueue,
    pause,
    promote,
)
from workflows.run_state import StepState
from workflows.status import StepStatus


def on_child_finished(
    run: RunData, graph: PlanGraph, event: ChildFinished, out: Transition
) -> None:
    state = current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    state.child_status = None
    state.finished_at = event.at
    state.usage = event.usage if state.usage is None else state.usage + event.usage
    if event.outcome == "cancelled":
        state.status = StepStatus.CANCELLED
        return
    if event.outcome == "rejected":
        state.status = StepStatus.REJECTED
        message = f"step '{state.id}': its child run was rejected"
        close(run, "rejected", state.id, message, event.at, out)
        return
    if event.outcome == "failed":
        state.error = event.error
        if run.closing is not None:
            state.status = StepStatus.FAILED
        else:
            pause(state, out)
        return
    step = graph.steps[state.id]
    if not child_finished(run, graph.plan, graph.expressions, state, step, event, out.commands):
        pause(state, out)
    else:
        child_step_moved_on(run, graph, state, event.at, out)


def on_map_results_stored(
    run: RunData, graph: PlanGraph, event: MapResultsStored, out: Transition
) -> None:
    state = current_execution(run, event.step_id, event.execution)
    if state is None:
        return
    state.finished_at = event.at
    map_results_stored(run, state, event)
    child_step_moved_on(run, graph, state, event.at, out)


def child_step_moved_on(
    run: RunData, graph: PlanGraph, state: StepState, at: datetime, out: Transition
) -> None:
    """After a child or a store: queue the next chunk or iteration, or settle what the
    completed step feeds; a step still running (storing a map's results) waits. A
    closing run starts no next chunk: the step ends cancelled, as pending steps did."""
    if state.status == StepStatus.PENDING and run.closing is not None:
        state.status = StepStatus.CANCELLED
    elif state.status == StepStatus.PENDING:
        enqueue(run, graph, state.id)
    elif state.status == StepStatus.COMPLETED and run.closing is None:
        promote(run, graph, graph.dependents[state.id], at, out)
