"""Compile rules for the steps that decide or repeat: conditions, routers, maps, loops and
sub-workflows. ``workflows/compiler.py`` calls ``check_control_steps`` with the whole
document; each problem is reported with its ``loc`` from the definition's root.

An expression may read ``output("id")`` only of a step upstream of it (an ancestor by
``after``), so its value is known when it is evaluated; inputs by ``input("name")`` or
the bare name; and a template's own variables (``item``, ``index``, ``iteration``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from workflows.definition import (
    ApprovalStep,
    ConditionStep,
    LoopStep,
    MapStep,
    RouterStep,
    TaskStep,
    WorkflowCallStep,
)
from workflows.expressions import ExpressionError, parse, references
from workflows.plan import ChildWorkflow

Loc = list[str | int]
Report = Callable[[Loc, str], None]
AnyDefinitionStep = (
    TaskStep | ApprovalStep | ConditionStep | RouterStep | MapStep | LoopStep | WorkflowCallStep
)
TemplateStep = TaskStep | ApprovalStep | ConditionStep | RouterStep

MAP_VARIABLES = frozenset({"item", "index"})
MAP_STEP_ID_LENGTH = 48
LOOP_VARIABLES = frozenset({"iteration"})


def workflow_key(step: WorkflowCallStep) -> str:
    """How the caller names a ``workflow`` step's definition: ``name@version``."""
    return f"{step.workflow}@{step.version}"


@dataclass(frozen=True)
class Names:
    """What an expression at one place may read."""

    outputs: frozenset[str]
    inputs: frozenset[str]
    variables: frozenset[str] = frozenset()


def ancestors(steps: Sequence[tuple[int, AnyDefinitionStep]]) -> dict[str, frozenset[str]]:
    """Every step's ancestors by ``after``; safe on the cycles reported elsewhere."""
    after = {step.id: list(step.after) for _, step in steps}
    found: dict[str, frozenset[str]] = {}
    for step_id in after:
        seen: set[str] = set()
        pending = list(after[step_id])
        while pending:
            dep = pending.pop()
            if dep in seen or dep not in after:
                continue
            seen.add(dep)
            pending.extend(after[dep])
        found[step_id] = frozenset(seen - {step_id})
    return found


def check_expression(report: Report, loc: Loc, text: str, names: Names) -> None:
    try:
        tree = parse(text)
    except ExpressionError as error:
        report(loc, f"invalid expression {error}")
        return
    for ref in references(tree):
        if ref.kind == "output" and ref.name not in names.outputs:
            report(
                loc,
                f'output("{ref.name}") at position {ref.position} names no step upstream '
                "of this one",
            )
        elif ref.kind == "input" and ref.name not in names.inputs:
            report(loc, f'input("{ref.name}") at position {ref.position} names no input')
        elif ref.kind == "name" and ref.name not in names.inputs | names.variables:
            report(loc, f"'{ref.name}' at position {ref.position} names no input or variable")


def check_chosen(
    report: Report,
    loc: Loc,
    chooser: str,
    chosen: list[str],
    steps: Mapping[str, AnyDefinitionStep],
) -> None:
    """A step a condition or router may choose lists it in ``after``, like any dependency."""
    for index, target in enumerate(chosen):
        step = steps.get(target)
        if step is None:
            report([*loc, index], f"unknown step '{target}'")
        elif chooser not in step.after:
            report([*loc, index], f"step '{target}' must list '{chooser}' in after")


def check_branches(
    report: Report,
    loc: Loc,
    step: ConditionStep | RouterStep,
    steps: Mapping[str, AnyDefinitionStep],
    names: Names,
) -> None:
    if isinstance(step, ConditionStep):
        check_expression(report, [*loc, "if"], step.if_, names)
        check_chosen(report, [*loc, "then"], step.id, step.then, steps)
        check_chosen(report, [*loc, "else"], step.id, step.else_, steps)
        for index, target in enumerate(step.else_):
            if target in step.then:
                report([*loc, "else", index], f"'{target}' is in both then and else")
        return
    route_names: dict[str, int] = {}
    for index, route in enumerate(step.routes):
        if route.name in route_names:
            report([*loc, "routes", index, "name"], f"duplicate route '{route.name}'")
        route_names.setdefault(route.name, index)
        check_expression(report, [*loc, "routes", index, "if"], route.if_, names)
    known = set(route_names) | {step.default}
    for name, targets in step.targets.items():
        if name not in known:
            report(
                [*loc, "targets", name],
                f"'{name}' is not a route or the default (routes: {', '.join(route_names)})",
            )
        check_chosen(report, [*loc, "targets", name], step.id, targets, steps)


def check_template(
    report: Report,
    loc: Loc,
    step: MapStep | LoopStep,
    agent_ids: set[str],
    outer: Names,
    check_placeholders: Callable[[Loc, str, set[str]], None],
) -> None:
    """A map's or loop's steps: a small plan of their own, checked like the top level."""
    variables = MAP_VARIABLES if isinstance(step, MapStep) else LOOP_VARIABLES
    template: list[tuple[int, AnyDefinitionStep]] = list(enumerate(step.steps))
    by_id: dict[str, AnyDefinitionStep] = {}
    for index, inner in template:
        if inner.id in by_id:
            report([*loc, "steps", index, "id"], f"duplicate step id '{inner.id}'")
        by_id.setdefault(inner.id, inner)
    found = ancestors(template)
    cyclic = _cyclic(template)
    declared = set(outer.inputs) | set(variables)
    for index, inner in template:
        inner_loc: Loc = [*loc, "steps", index]
        if isinstance(step, MapStep) and len(inner.id) > MAP_STEP_ID_LENGTH:
            # Each item's copy is suffixed with "-<index>", and must stay a valid id.
            report([*inner_loc, "id"], f"a map's step ids are at most {MAP_STEP_ID_LENGTH} long")
        for dep_index, dep in enumerate(inner.after):
            if dep == inner.id:
                report([*inner_loc, "after", dep_index], "a step cannot wait for itself")
            elif dep not in by_id:
                report([*inner_loc, "after", dep_index], f"unknown step '{dep}' in this template")
        if inner.id in cyclic:
            report([*inner_loc, "after"], "cycle in the template's steps")
        names = Names(
            outputs=outer.outputs | found[inner.id],
            inputs=outer.inputs,
            variables=frozenset(variables),
        )
        if isinstance(inner, TaskStep):
            if inner.agent not in agent_ids:
                report([*inner_loc, "agent"], f"unknown agent '{inner.agent}'")
            check_placeholders([*inner_loc, "description"], inner.description, declared)
            check_placeholders([*inner_loc, "expected_output"], inner.expected_output, declared)
        elif isinstance(inner, ConditionStep | RouterStep):
            check_branches(report, inner_loc, inner, by_id, names)
    every = Names(outer.outputs | set(by_id), outer.inputs, frozenset(variables))
    if isinstance(step, MapStep):
        check_expression(report, [*loc, "items"], step.items, outer)
    else:
        check_expression(report, [*loc, "until"], step.until, every)


def _cyclic(template: list[tuple[int, AnyDefinitionStep]]) -> set[str]:
    """Template steps on a cycle (Kahn's algorithm leaves them over)."""
    waiting = {s.id: {d for d in s.after if d != s.id} for _, s in template}
    ids = set(waiting)
    for deps in waiting.values():
        deps &= ids
    done: set[str] = set()
    progress = True
    while progress:
        progress = False
        for step_id, deps in waiting.items():
            if step_id not in done and deps <= done:
                done.add(step_id)
                progress = True
    return ids - done


def check_call(
    report: Report,
    loc: Loc,
    step: WorkflowCallStep,
    children: Mapping[str, ChildWorkflow | str],
    names: Names,
    check_placeholders: Callable[[Loc, str, set[str]], None],
) -> None:
    """The called definition exists (the caller resolved it) and gets the inputs it needs."""
    child = children.get(workflow_key(step))
    if child is None:
        report([*loc, "workflow"], f"unknown workflow '{step.workflow}'")
        return
    if isinstance(child, str):
        report([*loc, "workflow"], child)
        return
    declared = {spec.name: spec for spec in child.definition.inputs}
    for name, value in step.inputs.items():
        value_loc: Loc = [*loc, "inputs", name]
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            report(value_loc, f"workflow '{step.workflow}' has no input '{name}' (inputs: {known})")
        elif isinstance(value, str):
            check_placeholders(value_loc, value, set(names.inputs))
        else:
            check_expression(report, [*value_loc, "expr"], value.expr, names)
    for name, spec in declared.items():
        if spec.required and spec.default is None and name not in step.inputs:
            report([*loc, "inputs"], f"workflow '{step.workflow}' needs the input '{name}'")
