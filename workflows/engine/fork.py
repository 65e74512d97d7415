"""Fork a run from one of its steps: which finished steps the new run reuses, as data.

A fork re-runs ``from_step`` and everything after it. Every other step is reused (not
executed, not paid for again) when it finished in the parent, its rendered spec (and
its agent's) is the same in the chosen version, and so is everything upstream of it.
Any other step runs again.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.engine.state import RunData
from workflows.plan import Plan, PlanTaskStep
from workflows.run_state import StepState
from workflows.status import SATISFIED


@dataclass
class ForkPlan:
    state: RunData  # the new run's starting state: reused steps finished, the rest pending
    reused: list[str]
    rerun: list[str]


def plan_fork(
    parent_run_id: str,
    parent_plan: Plan,
    parent_steps: dict[str, StepState],
    plan: Plan,
    from_step: str,
) -> ForkPlan:
    downstream = _descendants(plan, from_step) | {from_step}
    reusable: set[str] = set()
    for step in plan.steps:  # in topological order: a step's upstream is decided first
        parent = parent_steps.get(step.id)
        if (
            step.id not in downstream
            and parent is not None
            and parent.status in SATISFIED
            and _same_spec(parent_plan, plan, step.id)
            and all(dep in reusable for dep in step.after)
        ):
            reusable.add(step.id)
    state = RunData.for_plan(plan)
    for step_id in reusable:
        reused = parent_steps[step_id].model_copy(deep=True)
        # Paid for by the parent: the fork's own usage starts at nothing.
        reused.usage = None
        reused.log = [*reused.log, f"reused from run {parent_run_id}"]
        state.steps[step_id] = reused
    order = [s.id for s in plan.steps]
    return ForkPlan(
        state=state,
        reused=[s for s in order if s in reusable],
        rerun=[s for s in order if s not in reusable],
    )


def _descendants(plan: Plan, step_id: str) -> set[str]:
    found: set[str] = set()
    frontier = [step_id]
    while frontier:
        current = frontier.pop()
        for step in plan.steps:
            if current in step.after and step.id not in found:
                found.add(step.id)
                frontier.append(step.id)
    return found


def _same_spec(parent_plan: Plan, plan: Plan, step_id: str) -> bool:
    try:
        before, after = parent_plan.step(step_id), plan.step(step_id)
    except KeyError:
        return False
    if before != after:
        return False
    if isinstance(before, PlanTaskStep) and isinstance(after, PlanTaskStep):
        return parent_plan.agents[before.agent] == plan.agents[after.agent]
    return True
