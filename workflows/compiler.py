"""Compile a workflow definition into a validated, rendered plan.

Every problem is reported at once, each as ``{loc, msg}`` with ``loc`` counted
from the definition's root (``["steps", 2, "agent"]``), so an editor can put
each error on the node and field it concerns.

A tool an agent names is a built-in (workflows/tools.py) or one of the user tools the
caller passes, pinned as the caller found it: an HTTP tool by its name, an MCP server's
tool as ``<server>.<tool>`` and all of a server's tools as ``<server>.*``. The compiler
only looks names up (``tools.get(name)``), so a caller may answer names it cannot list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from workflows.branch_checks import (
    AnyDefinitionStep,
    Names,
    ancestors,
    check_branches,
    check_call,
    check_template,
)
from workflows.definition import (
    AgentSpec,
    ConditionStep,
    InputSpec,
    LoopStep,
    MapStep,
    RouterStep,
    Step,
    TaskStep,
    WorkflowCallStep,
    WorkflowDefinition,
)
from workflows.plan import Plan
from workflows.plan_building import (
    NO_CHILDREN,
    PLACEHOLDER_TOKEN,
    Children,
    build_plan,
    topological,
)
from workflows.tools import BUILTIN_BY_NAME, PinnedTool, tool_problem

Loc = list[str | int]

_STEP_TAGS = {"task", "approval", "condition", "router", "map", "loop", "workflow"}
_PLACEHOLDER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

InputValue = str | int | float | bool

NO_TOOLS: Mapping[str, PinnedTool] = MappingProxyType({})


class CompileError(BaseModel):
    loc: Loc
    msg: str


class CompilationFailed(Exception):
    def __init__(self, errors: list[CompileError]) -> None:
        super().__init__("; ".join(f"{_dotted(e.loc)}: {e.msg}" for e in errors))
        self.errors = errors


def validate_definition(
    definition: Mapping[str, Any] | WorkflowDefinition,
    models: Iterable[str],
    tools: Mapping[str, PinnedTool] = NO_TOOLS,
    children: Children = NO_CHILDREN,
) -> WorkflowDefinition:
    """Check everything but input values; raise CompilationFailed with every error."""
    parsed, _, errors = _check(definition, set(models), tools, children)
    if errors or parsed is None:
        raise CompilationFailed(errors)
    return parsed


def compile_plan(
    definition: Mapping[str, Any] | WorkflowDefinition,
    inputs: Mapping[str, Any],
    models: Iterable[str],
    tools: Mapping[str, PinnedTool] = NO_TOOLS,
    children: Children = NO_CHILDREN,
) -> Plan:
    """Validate the definition and the run's inputs, then build the plan to execute.

    ``tools`` holds the user tools (HTTP and MCP) by the names agents may write; the
    built-ins need not be in it. The plan pins every tool an agent names, and every
    definition a ``workflow`` step calls.
    """
    parsed, document, errors = _check(definition, set(models), tools, children)
    values, input_errors = _resolve_inputs(document, inputs)
    errors += input_errors
    if errors or parsed is None:
        raise CompilationFailed(errors)
    return build_plan(parsed, values, tools, children)


def called_workflows(definition: Mapping[str, Any]) -> list[tuple[str, int | str]]:
    """The (name, version) each ``workflow`` step calls: what the caller must resolve."""
    calls: list[tuple[str, int | str]] = []
    for step in _items(definition, "steps"):
        if isinstance(step, Mapping) and step.get("type") == "workflow":
            name, version = step.get("workflow"), step.get("version", "latest")
            if isinstance(name, str) and isinstance(version, int | str):
                calls.append((name, version))
    return calls


def may_name_user_tools(definition: Mapping[str, Any]) -> bool:
    """Whether compiling ``definition`` may look a user tool up: an agent names a tool
    that is not built in, or a step calls another workflow, whose agents may. When not,
    its caller need not read the workspace's tools and MCP servers."""
    if called_workflows(definition):
        return True
    for agent in _items(definition, "agents"):
        names = agent.get("tools") if isinstance(agent, Mapping) else None
        if isinstance(names, list) and any(
            not isinstance(name, str) or name not in BUILTIN_BY_NAME for name in names
        ):
            return True
    return False


def step_order(definition: WorkflowDefinition) -> list[str]:
    """Step ids in the order a plan takes them."""
    return [step.id for step in topological(definition.steps)]


# --- checking ---------------------------------------------------------------------------


@dataclass
class _Errors:
    items: list[CompileError] = field(default_factory=list)

    def add(self, loc: Loc, msg: str) -> None:
        self.items.append(CompileError(loc=loc, msg=msg))


AnyStep = AnyDefinitionStep
T = TypeVar("T")
_STEP = TypeAdapter[AnyStep](Step)


@dataclass
class _Document:
    """What the whole-document rules look at.

    Each element that parsed, at its index in the author's document, and every name
    written, parsed or not: an agent broken in one field is still known by its id, so a
    step that names it is not reported as well.
    """

    inputs: list[tuple[int, InputSpec]]
    agents: list[tuple[int, AgentSpec]]
    steps: list[tuple[int, AnyStep]]
    input_names: list[tuple[int, str]]
    agent_ids: list[tuple[int, str]]
    step_ids: list[tuple[int, str]]

    @classmethod
    def of(cls, parsed: WorkflowDefinition) -> _Document:
        return cls(
            inputs=list(enumerate(parsed.inputs)),
            agents=list(enumerate(parsed.agents)),
            steps=list(enumerate(parsed.steps)),
            input_names=[(i, spec.name) for i, spec in enumerate(parsed.inputs)],
            agent_ids=[(i, agent.id) for i, agent in enumerate(parsed.agents)],
            step_ids=[(i, step.id) for i, step in enumerate(parsed.steps)],
        )

    @classmethod
    def salvage(cls, raw: Mapping[str, Any]) -> _Document:
        """The parts of a document that failed validation as a whole."""
        return cls(
            inputs=_valid_items(raw, "inputs", InputSpec.model_validate),
            agents=_valid_items(raw, "agents", AgentSpec.model_validate),
            steps=_valid_items(raw, "steps", _STEP.validate_python),
            input_names=_written(raw, "inputs", "name"),
            agent_ids=_written(raw, "agents", "id"),
            step_ids=_written(raw, "steps", "id"),
        )


def _items(raw: Mapping[str, Any], section: str) -> list[Any]:
    items = raw.get(section)
    return items if isinstance(items, list) else []


def _valid_items(
    raw: Mapping[str, Any], section: str, validate: Callable[[Any], T]
) -> list[tuple[int, T]]:
    valid = []
    for index, item in enumerate(_items(raw, section)):
        try:
            valid.append((index, validate(item)))
        except ValidationError:
            continue  # already reported by the whole-document validation
    return valid


def _written(raw: Mapping[str, Any], section: str, key: str) -> list[tuple[int, str]]:
    return [
        (index, item[key])
        for index, item in enumerate(_items(raw, section))
        if isinstance(item, Mapping) and isinstance(item.get(key), str)
    ]


def _check(
    definition: Mapping[str, Any] | WorkflowDefinition,
    models: set[str],
    tools: Mapping[str, PinnedTool],
    children: Children = NO_CHILDREN,
) -> tuple[WorkflowDefinition | None, _Document, list[CompileError]]:
    """Every error at once: pydantic's structural ones, and the whole-document rules run
    over whatever parsed."""
    parsed: WorkflowDefinition | None
    errors = _Errors()
    if isinstance(definition, WorkflowDefinition):
        parsed, document = definition, _Document.of(definition)
    else:
        try:
            parsed = WorkflowDefinition.model_validate(definition)
            document = _Document.of(parsed)
        except ValidationError as exc:
            parsed = None
            errors.items += pydantic_errors(exc)
            raw = definition if isinstance(definition, Mapping) else {}
            document = _Document.salvage(raw)
    _check_unique(errors, "inputs", document.input_names, "name", "input")
    _check_unique(errors, "agents", document.agent_ids, "id", "agent id")
    _check_unique(errors, "steps", document.step_ids, "id", "step id")
    _check_agents(errors, document, models, tools)
    _check_steps(errors, document)
    _check_control_steps(errors, document, children)
    _check_cycles(errors, document)
    _check_placeholders(errors, document)
    return parsed, document, errors.items


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
            msg = "type must be one of: " + ", ".join(sorted(_STEP_TAGS))
        result.append(CompileError(loc=[*(prefix or []), *loc], msg=msg))
    return result


def _check_unique(
    errors: _Errors, section: str, ids: list[tuple[int, str]], key: str, what: str
) -> None:
    first_seen: dict[str, int] = {}
    for index, value in ids:
        if value in first_seen:
            errors.add(
                [section, index, key],
                f"duplicate {what} '{value}' (first at {section}[{first_seen[value]}])",
            )
        else:
            first_seen[value] = index


def _check_agents(
    errors: _Errors, document: _Document, models: set[str], tools: Mapping[str, PinnedTool]
) -> None:
    for index, agent in document.agents:
        if agent.llm not in models:
            known = ", ".join(sorted(models)) or "none"
            errors.add(["agents", index, "llm"], f"unknown model '{agent.llm}' (known: {known})")
        for tool_index, name in enumerate(agent.tools):
            problem = tool_problem(name, tools)
            if problem is not None:
                errors.add(["agents", index, "tools", tool_index], problem)


def _check_steps(errors: _Errors, document: _Document) -> None:
    agent_ids = {agent_id for _, agent_id in document.agent_ids}
    step_ids = {step_id for _, step_id in document.step_ids}
    for index, step in document.steps:
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


def _check_control_steps(errors: _Errors, document: _Document, children: Children) -> None:
    """Conditions, routers, maps, loops and sub-workflows (workflows/branch_checks.py)."""
    steps = {step.id: step for _, step in document.steps}
    agent_ids = {agent_id for _, agent_id in document.agent_ids}
    inputs = frozenset(name for _, name in document.input_names)
    upstream = ancestors(document.steps)

    def placeholders(loc: Loc, text: str, declared: set[str]) -> None:
        _check_template(errors, loc, text, declared)

    for index, step in document.steps:
        loc: Loc = ["steps", index]
        names = Names(outputs=upstream[step.id], inputs=inputs)
        if isinstance(step, ConditionStep | RouterStep):
            check_branches(errors.add, loc, step, steps, names)
        elif isinstance(step, MapStep | LoopStep):
            check_template(errors.add, loc, step, agent_ids, names, placeholders)
        elif isinstance(step, WorkflowCallStep):
            check_call(errors.add, loc, step, children, names, placeholders)


def _check_cycles(errors: _Errors, document: _Document) -> None:
    """Name every cycle once, at the step where the search first closes it.

    Iterative depth-first search: a long chain of steps must not hit Python's
    recursion limit.
    """
    index_of = {step.id: index for index, step in document.steps}
    after = {
        step.id: [d for d in step.after if d in index_of and d != step.id]
        for _, step in document.steps
    }
    done: set[str] = set()
    reported: set[frozenset[str]] = set()
    for _, root in document.steps:
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


def _check_placeholders(errors: _Errors, document: _Document) -> None:
    declared = {name for _, name in document.input_names}
    for index, agent in document.agents:
        for name in ("role", "goal", "backstory"):
            _check_template(errors, ["agents", index, name], getattr(agent, name), declared)
    for index, step in document.steps:
        if isinstance(step, TaskStep):
            for name in ("description", "expected_output"):
                _check_template(errors, ["steps", index, name], getattr(step, name), declared)


def _check_template(errors: _Errors, loc: Loc, text: str, declared: set[str]) -> None:
    for match in PLACEHOLDER_TOKEN.finditer(text):
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


def resolve_inputs(
    parsed: WorkflowDefinition, given: Mapping[str, Any]
) -> tuple[dict[str, str], list[CompileError]]:
    """A checked definition's input values: the given ones, else the defaults."""
    return _resolve_inputs(_Document.of(parsed), given)


def _resolve_inputs(
    document: _Document, given: Mapping[str, Any]
) -> tuple[dict[str, str], list[CompileError]]:
    errors = _Errors()
    declared = {name for _, name in document.input_names}
    for name in given:
        if name not in declared:
            errors.add(["inputs", name], f"unknown input '{name}'")
    values: dict[str, str] = {}
    for _, spec in document.inputs:
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


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)
