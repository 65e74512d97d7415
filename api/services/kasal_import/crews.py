"""A Kasal crew as one of our definitions: a pure function, warnings and errors in ``Notes``.

- ``agentNode``s become agents, ``taskNode``s task steps. An agent → task edge chooses a
  task's agent (else ``data.agent_id``, else the crew's only agent).
- Task → task edges become ``after``, and so context. A task without one follows the
  task before it in Kasal's order, as CrewAI's sequential process hands each task the
  outputs before it; ``max_parallel`` is 1, so the crew runs one task at a time.
- ``process: "hierarchical"``, ``manager_llm`` and a ``managerNode`` are kept as a note in
  the description (and a warning): the crew runs sequentially here.
- ``human_input`` puts an approval gate after the task (a rejection runs it again).
- ``output_json`` becomes the step's ``output_schema``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from api.services.kasal_import import tools
from api.services.kasal_import.notes import Notes
from api.services.kasal_import.shapes import (
    AgentData,
    Crew,
    Edge,
    ModelMap,
    Node,
    TaskData,
    parse_part,
)
from api.services.kasal_import.text import Ids, Templates
from workflows.compiler import Loc

ANY_OBJECT: dict[str, Any] = {"type": "object"}
_MAX_TIMEOUT = 86_400


@dataclass
class Translated:
    """One definition to store, and what the service checks and reports about it."""

    loc: Loc
    kind: Literal["crew", "flow"]
    kasal_id: str | None
    name: str
    description: str
    spec: dict[str, Any]
    layout: dict[str, Any]
    # Each agent's model as stored, with the loc of the Kasal field it came from.
    models: list[tuple[Loc, str]] = field(default_factory=list)

    @property
    def inputs(self) -> list[str]:
        return [spec["name"] for spec in self.spec.get("inputs", [])]


@dataclass
class _Task:
    index: int  # in crew.nodes
    node: Node
    data: TaskData
    id: str = ""
    agent: str | None = None  # agent node id
    after: list[str] = field(default_factory=list)  # task node ids


def translate_crew(crew: Crew, loc: Loc, model_map: ModelMap, notes: Notes) -> Translated | None:
    """Our definition of ``crew``, or None when ``notes`` holds errors that stop it."""
    errors_before = len(notes.errors)
    agents: dict[str, tuple[int, Node, AgentData]] = {}
    tasks: dict[str, _Task] = {}
    remarks: list[str] = []
    for index, node in enumerate(crew.nodes):
        node_loc = [*loc, "nodes", index]
        if node.type == "agentNode":
            if (data := parse_part(AgentData, node.data, node_loc, notes)) is not None:
                agents[node.id] = (index, node, data)
        elif node.type == "taskNode":
            if (data := parse_part(TaskData, node.data, node_loc, notes)) is not None:
                tasks[node.id] = _Task(index, node, data)
        elif node.type == "managerNode":
            llm = node.data.get("llm")
            remarks.append(f"Kasal's manager node{f' (model {llm})' if llm else ''}")
        else:
            notes.warn([*node_loc, "type"], f"node type '{node.type}' is not imported")
    if not tasks:
        notes.error([*loc, "nodes"], "a crew needs at least one taskNode")
        return None

    _read_edges(crew.edges, loc, agents, tasks, notes)
    _assign_fallback_agents(loc, crew, agents, tasks, notes)
    ordered = _order(crew, loc, tasks, notes)
    if ordered is None or len(notes.errors) > errors_before:
        return None

    templates = Templates(notes)
    ids = Ids()
    agent_ids: dict[str, str] = {}
    for task in ordered:
        task.id = ids.make(task.data.label, task.node.id)
    agent_specs: list[tuple[str, dict[str, Any]]] = []  # (node id, agent)
    models: list[tuple[Loc, str]] = []
    agent_tools: dict[str, list[str]] = {}
    for node_id, (index, node, data) in agents.items():
        node_loc = [*loc, "nodes", index]
        if not any(task.agent == node_id for task in ordered):
            notes.warn(node_loc, f"agent '{data.role or node.id}' has no task: not imported")
            continue
        agent_ids[node_id] = ids.make(data.role, data.label, node.id)
        agent_tools[node_id] = _tools(data.tools, data.tool_configs, node_loc, notes)
        agent = _agent(data, node_loc, model_map, templates, notes)
        if agent is not None:
            models.append(([*node_loc, "data", "llm"], agent["llm"]))
            agent_specs.append((node_id, {"id": agent_ids[node_id], **agent}))

    steps: list[dict[str, Any]] = []
    exits: dict[str, str] = {}  # task node id → the step its dependents wait for
    layout: dict[str, dict[str, float]] = {}
    previous: str | None = None
    for task in ordered:
        node_loc = [*loc, "nodes", task.index]
        assert task.agent is not None
        for name in _tools(task.data.tools, task.data.tool_configs, node_loc, notes):
            if name not in agent_tools[task.agent]:
                agent_tools[task.agent].append(name)
        after = [exits[dep] for dep in task.after] or ([previous] if previous else [])
        step = _task_step(task, agent_ids[task.agent], after, node_loc, templates, notes)
        if step is None:
            continue
        steps.append(step)
        position = task.node.position
        if position is not None:
            layout[task.id] = {"x": position.x, "y": position.y}
        exits[task.node.id] = previous = task.id
        config = task.data.config
        if task.data.human_input or (config is not None and config.human_input):
            gate = ids.make(f"{task.id}_review")
            steps.append(
                {
                    "id": gate,
                    "type": "approval",
                    "after": [task.id],
                    "message": f"Review the output of '{task.data.label or task.id}'",
                    "on_reject": "retry_upstream",
                }
            )
            if position is not None:
                layout[gate] = {"x": position.x, "y": position.y + 150}
            exits[task.node.id] = previous = gate
    for node_id, agent in agent_specs:
        agent["tools"] = agent_tools[node_id]
    if len(notes.errors) > errors_before:
        return None

    if crew.process == "hierarchical":
        remarks.insert(0, "process 'hierarchical'")
    if crew.manager_llm:
        remarks.append(f"manager_llm '{crew.manager_llm}'")
    for remark in remarks:
        notes.warn(loc, f"{remark} is kept as a note: the crew runs sequentially")
    for flag in ("planning", "reasoning"):
        if getattr(crew, flag):
            notes.warn([*loc, flag], f"{flag} is not supported: not imported")
    description = f"Imported from Kasal crew '{crew.name}'" + (
        f" ({crew.kasal_id})." if crew.kasal_id else "."
    )
    if remarks:
        description += " In Kasal: " + ", ".join(remarks) + "; here it runs sequentially."
    spec: dict[str, Any] = {
        "inputs": [{"name": name, "required": True} for name in templates.inputs],
        "agents": [agent for _, agent in agent_specs],
        "steps": steps,
        "max_parallel": 1,
    }
    return Translated(
        loc=loc,
        kind="crew",
        kasal_id=crew.kasal_id,
        name=crew.name.strip(),
        description=description,
        spec=spec,
        layout={"nodes": layout, "kasal": {"kind": "crew", "id": crew.kasal_id}},
        models=models,
    )


def _read_edges(
    edges: list[Edge],
    loc: Loc,
    agents: dict[str, tuple[int, Node, AgentData]],
    tasks: dict[str, _Task],
    notes: Notes,
) -> None:
    for index, edge in enumerate(edges):
        target = tasks.get(edge.target)
        if target is not None and edge.source in agents:
            if target.agent is not None and target.agent != edge.source:
                notes.warn([*loc, "edges", index], "a second agent for one task: ignored")
            else:
                target.agent = edge.source
        elif target is not None and edge.source in tasks:
            if edge.source not in target.after:
                target.after.append(edge.source)
        else:
            notes.warn(
                [*loc, "edges", index],
                f"edge {edge.source} → {edge.target} joins no agent or task to a task: ignored",
            )


def _assign_fallback_agents(
    loc: Loc,
    crew: Crew,
    agents: dict[str, tuple[int, Node, AgentData]],
    tasks: dict[str, _Task],
    notes: Notes,
) -> None:
    """A task without an agent edge: ``data.agent_id``, else the crew's only agent."""
    aliases: dict[str, str] = {}
    for node_id, (_, _, data) in agents.items():
        for alias in (node_id, data.agentId, data.agent_id):
            if alias:
                aliases.setdefault(alias, node_id)
    for task in tasks.values():
        if task.agent is not None:
            continue
        named = task.data.agent_id or task.data.agentId
        if named and named in aliases:
            task.agent = aliases[named]
        elif len(agents) == 1:
            task.agent = next(iter(agents))
            notes.warn([*loc, "nodes", task.index], "no agent edge: the crew's only agent does it")
        else:
            notes.error(
                [*loc, "nodes", task.index, "data", "agent_id"],
                f"task '{task.data.label or task.node.id}' has no agent: "
                "no agent → task edge, and no known data.agent_id",
            )


def _order(crew: Crew, loc: Loc, tasks: dict[str, _Task], notes: Notes) -> list[_Task] | None:
    """Kasal's order (``task_ids``, else the nodes'), with every dependency first."""
    by_kasal_id = {t.data.taskId: t for t in tasks.values() if t.data.taskId}
    listed = [by_kasal_id.get(i) or tasks.get(i) for i in crew.task_ids or []]
    rank: dict[str, int] = {}
    for task in [*listed, *sorted(tasks.values(), key=lambda t: t.index)]:
        if task is not None and task.node.id not in rank:
            rank[task.node.id] = len(rank)
    ordered: list[_Task] = []
    placed: set[str] = set()
    while len(ordered) < len(tasks):
        ready = [
            t
            for t in tasks.values()
            if t.node.id not in placed and all(dep in placed for dep in t.after)
        ]
        if not ready:
            stuck = sorted(
                t.data.label or t.node.id for t in tasks.values() if t.node.id not in placed
            )
            notes.error([*loc, "edges"], "task edges form a cycle among: " + ", ".join(stuck))
            return None
        first = min(ready, key=lambda t: rank[t.node.id])
        ordered.append(first)
        placed.add(first.node.id)
    return ordered


def _agent(
    data: AgentData, loc: Loc, model_map: ModelMap, templates: Templates, notes: Notes
) -> dict[str, Any] | None:
    texts: dict[str, str] = {}
    for name in ("role", "goal", "backstory"):
        text = getattr(data, name)
        if not text or not text.strip():
            notes.error([*loc, "data", name], f"an agent needs a {name}")
            continue
        texts[name] = templates.convert(text, [*loc, "data", name])
    if data.allow_delegation:
        notes.warn([*loc, "data", "allow_delegation"], "delegation is not supported: ignored")
    if not data.llm:
        notes.error([*loc, "data", "llm"], "an agent needs a model (llm)")
        return None
    if len(texts) < 3:
        return None
    spec: dict[str, Any] = {**texts, "llm": model_map.get(data.llm, data.llm)}
    if data.max_iter is not None:
        spec["max_iter"] = min(max(data.max_iter, 1), 50)
    return spec


def _tools(
    references: list[str | int] | None,
    configs: dict[str, Any] | None,
    loc: Loc,
    notes: Notes,
) -> list[str]:
    mapped: list[str] = []
    for index, reference in enumerate(references or []):
        ours = tools.equivalent(str(reference))
        if ours is None:
            notes.warn(
                [*loc, "data", "tools", index],
                f"Kasal tool {tools.described(str(reference))} has no equivalent here: dropped",
            )
        elif ours not in mapped:
            mapped.append(ours)
    if configs:
        notes.warn(
            [*loc, "data", "tool_configs"],
            "tool_configs are not imported (" + ", ".join(sorted(configs)) + ")",
        )
    return mapped


def _task_step(
    task: _Task, agent: str, after: list[str], loc: Loc, templates: Templates, notes: Notes
) -> dict[str, Any] | None:
    data = task.data
    texts: dict[str, str] = {}
    for name in ("description", "expected_output"):
        text = getattr(data, name)
        if not text or not text.strip():
            notes.error([*loc, "data", name], f"a task needs a {name}")
            continue
        texts[name] = templates.convert(text, [*loc, "data", name])
    if len(texts) < 2:
        return None
    step: dict[str, Any] = {"id": task.id, "type": "task", "agent": agent, **texts, "after": after}
    if data.async_execution:
        notes.warn([*loc, "data", "async_execution"], "tasks run in order here: ignored")
    config = data.config
    if config is None:
        return step
    config_loc = [*loc, "data", "config"]
    if config.retry_on_fail is False:
        step["retry"] = {"max_attempts": 1}
    elif config.max_retries is not None:
        step["retry"] = {"max_attempts": min(max(config.max_retries + 1, 1), 100)}
    if config.timeout is not None and config.timeout > 0:
        if config.timeout > _MAX_TIMEOUT:
            notes.warn([*config_loc, "timeout"], f"at most {_MAX_TIMEOUT} seconds here")
        step["timeout_seconds"] = min(config.timeout, _MAX_TIMEOUT)
    schema = _output_schema(config.output_json, [*config_loc, "output_json"], notes)
    if schema is not None:
        step["output_schema"] = schema
    for name in (
        "output_pydantic",
        "output_file",
        "guardrail",
        "llm_guardrail",
        "callback_function",
    ):
        if getattr(config, name) not in (None, "", False):
            notes.warn([*config_loc, name], f"{name} is not supported: not imported")
    return step


def _output_schema(value: Any, loc: Loc, notes: Notes) -> dict[str, Any] | None:
    """Kasal's ``output_json``: true means "answer JSON"; a JSON Schema is kept as it is."""
    if value in (None, "", False, "false", "False"):
        return None
    if value in (True, "true", "True"):
        return dict(ANY_OBJECT)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            notes.warn(loc, f"Kasal's output schema '{value}' is not here: any JSON object")
            return dict(ANY_OBJECT)
    if isinstance(value, dict) and ("type" in value or "properties" in value):
        return value
    notes.warn(loc, "not a JSON Schema: any JSON object")
    return dict(ANY_OBJECT)
