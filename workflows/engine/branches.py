"""The join rule and the choices of conditions and routers, as pure functions of a run.

The join rule (README, "Branches and joins"): an edge from a step to one that lists it
in ``after`` is *open* while that step has not ended, *taken* once it ended satisfied
(completed, approved, skipped) unless it is a condition or router that chose another
branch for this step, and *not taken* when it ended ``not_taken``. A step with
``"join": "all"`` (the default) runs when none of its edges is open and at least one was
taken; with ``"join": "any"`` it runs as soon as one is taken. When all its edges ended
and none was taken, it ends ``not_taken`` too, and so, by the same rule, may its
dependents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workflows.engine.state import RunData
from workflows.expression_eval import Scope, evaluate, holds
from workflows.expressions import Node, parse
from workflows.plan import AnyPlanStep, Plan, PlanConditionStep, PlanRouterStep
from workflows.status import SATISFIED, StepStatus

Chooser = PlanConditionStep | PlanRouterStep
_ENDED_UNSATISFIED = frozenset(
    {StepStatus.NOT_TAKEN, StepStatus.FAILED, StepStatus.REJECTED, StepStatus.CANCELLED}
)


def choosable(step: Chooser) -> set[str]:
    """Every step the chooser may take or leave."""
    if isinstance(step, PlanConditionStep):
        return {*step.then, *step.else_}
    return {target for targets in step.targets.values() for target in targets}


def chosen(step: Chooser, branch: str | None) -> set[str]:
    """The steps a branch takes; a skipped chooser (no branch) takes none."""
    if branch is None:
        return set()
    if isinstance(step, PlanConditionStep):
        return set(step.then if branch == "then" else step.else_)
    return set(step.targets.get(branch, []))


def edge_taken(
    run: RunData, steps: Mapping[str, AnyPlanStep], dep: str, target: str
) -> bool | None:
    """True when the edge ``dep → target`` was taken, False when not, None while open."""
    state = run.steps[dep]
    if state.status in _ENDED_UNSATISFIED:
        return False
    if state.status not in SATISFIED:
        return None
    step = steps[dep]
    if isinstance(step, PlanConditionStep | PlanRouterStep) and target in choosable(step):
        return target in chosen(step, state.branch)
    return True


def join_verdict(run: RunData, steps: Mapping[str, AnyPlanStep], step_id: str) -> bool | None:
    """True: the step may run. False: it is not taken. None: wait."""
    step = steps[step_id]
    if not step.after:
        return True
    edges = [edge_taken(run, steps, dep, step_id) for dep in step.after]
    if step.join == "any" and True in edges:
        return True
    if None in edges:
        return None
    return True in edges


class Expressions:
    """A plan's expressions, parsed once per execution (the compiler checked them)."""

    def __init__(self) -> None:
        self._parsed: dict[str, Node] = {}

    def tree(self, text: str) -> Node:
        if text not in self._parsed:
            self._parsed[text] = parse(text)
        return self._parsed[text]

    def holds(self, text: str, scope: Scope) -> bool:
        return holds(self.tree(text), scope)

    def value(self, text: str, scope: Scope) -> Any:
        return evaluate(self.tree(text), scope)


def scope_of(
    run: RunData,
    plan: Plan,
    variables: Mapping[str, Any] | None = None,
    outputs: Mapping[str, str] | None = None,
) -> Scope:
    """What an expression reads in this run: step outputs (``outputs`` win), inputs."""
    seen = {step_id: state.output for step_id, state in run.steps.items()}
    seen.update(outputs or {})
    return Scope(outputs=seen, inputs=plan.inputs, variables=variables or {})


def choose(step: Chooser, scope: Scope, expressions: Expressions) -> str:
    """The branch a condition or router takes (EvaluationError when it cannot say)."""
    if isinstance(step, PlanConditionStep):
        return "then" if expressions.holds(step.if_, scope) else "else"
    for route in step.routes:
        if expressions.holds(route.if_, scope):
            return route.name
    return step.default


def as_text(value: Any) -> str:
    """A value as a template or an input reads it: text as is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
