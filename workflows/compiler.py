"""Compile a workflow definition into a validated, rendered plan.

Every problem is reported at once, each as ``{loc, msg}`` with ``loc`` counted
from the definition's root (``["steps", 2, "agent"]``), so an editor can put
each error on the node and field it concerns.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.definition import ApprovalStep, TaskStep, WorkflowDefinition
from workflows.plan import Plan, PlanApprovalStep, PlanTaskStep, RunMeta

Loc = list[str | int]

_STEP_TAGS = {"task", "approval"}
# "{{" and "}}" are literal braces; "{name}" is a placeholder; anything else with a
# brace is malformed.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PLACEHOLDER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

InputValue = str | int | float | bool


class CompileError(BaseModel):
    loc: Loc
    msg: str


class CompilationFailed(Exception):
    def __init__(self, errors: list[CompileError]) -> None:
        super().__init__("; ".join(f"{_dotted(e.loc)}: {e.msg}" for e in errors))
        self.errors = errors


def validate_definition(
    definition: Mapping[str, Any] | WorkflowDefinition, models: Iterable[str]
) -> WorkflowDefinition:
    """Check everything but input values; raise CompilationFailed with every error."""
    parsed, errors = _check(definition, set(models))
    if errors or parsed is None:
        raise CompilationFailed(errors)
    return parsed


def compile_plan(
    definition: Mapping[str, Any] | WorkflowDefinition,
    inputs: Mapping[str, Any],
    models: Iterable[str],
) -> Plan:
    """Validate the definition and the run's inputs, then build the plan to execute."""
    parsed, errors = _check(definition, set(models))
    values: dict[str, str] = {}
    if parsed is not None:
        values, input_errors = _resolve_inputs(parsed, inputs)
        errors += input_errors
    if errors or parsed is None:
        raise CompilationFailed(errors)
    return _build_plan(parsed, values)


def step_order(definition: WorkflowDefinition) -> list[str]:
    """Step ids in the order a plan takes them."""
    return [step.id for step in _topological_order(definition)]


# --- checking ---------------------------------------------------------------------------


@dataclass
class _Errors:
    items: list[CompileError] = field(default_factory=list)

    def add(self, loc: Loc, msg: str) -> None:
        self.items.append(CompileError(loc=loc, msg=msg))


def _check(
    definition: Mapping[str, Any] | WorkflowDefinition, models: set[str]
) -> tuple[WorkflowDefinition | None, list[CompileError]]:
    if isinstance(definition, WorkflowDefinition):
        parsed = definition
    else:
        try:
            parsed = WorkflowDefinition.model_validate(definition)
        except ValidationError as exc:
            return None, pydantic_errors(exc)
    errors = _Errors()
    _check_unique(errors, "inputs", [i.name for i in parsed.inputs], "name", "input")
    _check_unique(errors, "agents", [a.id for a in parsed.agents], "id", "agent id")
    _check_unique(errors, "steps", [s.id for s in parsed.steps], "id", "step id")
    _check_agents(errors, parsed, models)
    _check_steps(errors, parsed)
    _check_cycles(errors, parsed)
    _check_placeholders(errors, parsed)
    return parsed, errors.items


def pydantic_errors(exc: ValidationError, prefix: Loc | None = None) -> list[CompileError]:
    """Turn pydantic's errors into ours, with loc counted from the definition's root.

    Pydantic puts the union's tag into the path (``steps.2.task.agent``); the
    author never wrote that segment, so it is dropped.
    """
    result = []
    for err in exc.errors():
        loc: Loc = list(err["loc"])
        if len(loc) >= 3 and loc[0] == "steps" and isinstance(loc[1], int):
            if loc[2] in _STEP_TAGS:
                del loc[2]
        msg = err["msg"]
        if err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
            loc.append("type")
            msg = "type must be 'task' or 'approval'"
        result.append(CompileError(loc=[*(prefix or []), *loc], msg=msg))
    return result


def _check_unique(errors: _Errors, section: str, ids: list[str], key: str, what: str) -> None:
    first_seen: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first_seen:
            errors.add(
                [section, index, key],
                f"duplicate {what} '{value}' (first at {section}[{first_seen[value]}])",
            )
        else:
            first_seen[value] = index


def _check_agents(errors: _Errors, parsed: WorkflowDefinition, models: set[str]) -> None:
    for index, agent in enumerate(parsed.agents):
        if agent.llm not in models:
            known = ", ".join(sorted(models)) or "none"
            errors.add(["agents", index, "llm"], f"unknown model '{agent.llm}' (known: {known})")
        for tool_index, tool in enumerate(agent.tools):
            errors.add(
                ["agents", index, "tools", tool_index],
                f"unknown tool '{tool}': tools are not available yet",
            )


def _check_steps(errors: _Errors, parsed: WorkflowDefinition) -> None:
    agent_ids = {a.id for a in parsed.agents}
    step_ids = {s.id for s in parsed.steps}
    for index, step in enumerate(parsed.steps):
        seen: set[str] = set()
        for dep_index, dep in enumerate(step.after):
            if dep == step.id:
                errors.add(["steps", index, "after", dep_index], "a step cannot wait for itself")
            elif dep not in step_ids:
                errors.add(["steps", index, "after", dep_index], f"unknown step '{dep}'")
            elif dep in seen:
                errors.add(["steps", index, "after", dep_index], f"'{dep}' is listed twice")
            seen.add(dep)
        if isinstance(step, TaskStep) and step.agent not in agent_ids:
            errors.add(["steps", index, "agent"], f"unknown agent '{step.agent}'")


def _check_cycles(errors: _Errors, parsed: WorkflowDefinition) -> None:
    """Name every cycle once, at the step where the search first closes it.

    Iterative depth-first search: a long chain of steps must not hit Python's
    recursion limit.
    """
    index_of = {s.id: i for i, s in enumerate(parsed.steps)}
    after = {s.id: [d for d in s.after if d in index_of and d != s.id] for s in parsed.steps}
    done: set[str] = set()
    reported: set[frozenset[str]] = set()
    for root in parsed.steps:
        if root.id in done:
            continue
        path = [root.id]
        on_path = {root.id}
        pending = [iter(after[root.id])]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                pending.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
            elif dep in on_path:
                cycle = [*path[path.index(dep) :], dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    errors.add(
                        ["steps", index_of[path[-1]], "after"],
                        "cycle: " + " → ".join(reversed(cycle)),
                    )
            elif dep not in done:
                path.append(dep)
                on_path.add(dep)
                pending.append(iter(after[dep]))


def _check_placeholders(errors: _Errors, parsed: WorkflowDefinition) -> None:
    declared = {i.name for i in parsed.inputs}
    for index, agent in enumerate(parsed.agents):
        for name in ("role", "goal", "backstory"):
            _check_template(errors, ["agents", index, name], getattr(agent, name), declared)
    for index, step in enumerate(parsed.steps):
        if isinstance(step, TaskStep):
            for name in ("description", "expected_output"):
                _check_template(errors, ["steps", index, name], getattr(step, name), declared)


def _check_template(errors: _Errors, loc: Loc, text: str, declared: set[str]) -> None:
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            errors.add(
                loc,
                f"unmatched '{token}' at position {match.start()}: write '{token * 2}' "
                "for a literal brace",
            )
        elif not _PLACEHOLDER_NAME.match(name):
            errors.add(
                loc, f"invalid placeholder '{token}': write '{{{{' and '}}}}' for literal braces"
            )
        elif name not in declared:
            errors.add(loc, f"placeholder '{{{name}}}' names no declared input")


def _resolve_inputs(
    parsed: WorkflowDefinition, given: Mapping[str, Any]
) -> tuple[dict[str, str], list[CompileError]]:
    errors = _Errors()
    declared = {i.name: i for i in parsed.inputs}
    for name in given:
        if name not in declared:
            errors.add(["inputs", name], f"unknown input '{name}'")
    values: dict[str, str] = {}
    for spec in parsed.inputs:
        value = given.get(spec.name)
        if value is None:
            value = spec.default
        if value is None:
            if spec.required:
                errors.add(["inputs", spec.name], f"missing required input '{spec.name}'")
            values[spec.name] = ""
        elif isinstance(value, InputValue):
            values[spec.name] = str(value)
        else:
            errors.add(["inputs", spec.name], "must be text, a number or a boolean")
    return values, errors.items


# --- building ---------------------------------------------------------------------------


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill placeholders once; the result is final text and is never interpolated again."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values[match.group(1)]

    return _TOKEN.sub(replace, text)


def _build_plan(parsed: WorkflowDefinition, values: dict[str, str]) -> Plan:
    agents = {
        agent.id: agent.model_copy(
            update={
                name: render(getattr(agent, name), values) for name in ("role", "goal", "backstory")
            }
        )
        for agent in parsed.agents
    }
    # What each step hands downstream as context: itself if it is a task, else (a gate)
    # the nearest tasks above it. Built in topological order, so each step is visited once.
    hands_on: dict[str, list[str]] = {}
    steps: list[PlanTaskStep | PlanApprovalStep] = []
    for step in _topological_order(parsed):
        upstream: list[str] = []
        for dep in step.after:
            upstream += [task for task in hands_on[dep] if task not in upstream]
        fields = step.model_dump()
        if isinstance(step, ApprovalStep):
            hands_on[step.id] = upstream
            steps.append(PlanApprovalStep(**fields, upstream_tasks=upstream))
        else:
            hands_on[step.id] = [step.id]
            fields["description"] = render(step.description, values)
            fields["expected_output"] = render(step.expected_output, values)
            steps.append(PlanTaskStep(**fields, context_from=upstream))
    webhook_url = parsed.notify.webhook_url if parsed.notify else None
    return Plan(
        inputs=values,
        agents=agents,
        steps=steps,
        max_parallel=parsed.max_parallel,
        meta=RunMeta(webhook_url=webhook_url),
    )


def _topological_order(parsed: WorkflowDefinition) -> list[TaskStep | ApprovalStep]:
    """Kahn's algorithm, always taking the earliest ready step in definition order.

    The order must not depend on hashing, so that every process builds the same plan.
    """
    steps = parsed.steps
    waiting_on = [len(s.after) for s in steps]
    dependents: dict[str, list[int]] = {s.id: [] for s in steps}
    for i, step in enumerate(steps):
        for dep in step.after:
            dependents[dep].append(i)
    ready = [i for i, count in enumerate(waiting_on) if count == 0]
    heapq.heapify(ready)
    ordered: list[TaskStep | ApprovalStep] = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(steps[i])
        for dependent in dependents[steps[i].id]:
            waiting_on[dependent] -= 1
            if waiting_on[dependent] == 0:
                heapq.heappush(ready, dependent)
    assert len(ordered) == len(steps), "cycles are rejected before building"
    return ordered


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)
