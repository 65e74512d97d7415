"""A Kasal flow as one of our definitions: a pure function, given the crews it runs.

- Each ``crewNode`` becomes a ``workflow`` step running the crew's definition (its latest
  version), passing on the flow's inputs that the crew declares.
- Edges become ``after``; an ``OR`` edge makes its target start on the first (``join:
  "any"``).
- ``ROUTER`` edges from one step become one ``router`` step after it, a route per edge,
  its condition from ``routerCondition`` or ``flow_config.routers[].routeConditions``.
- ``hitl`` on an edge, and a ``hitlGateNode``, become ``approval`` steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from api.services.kasal_import import conditions
from api.services.kasal_import.crews import Translated
from api.services.kasal_import.notes import Notes
from api.services.kasal_import.shapes import Edge, Flow, Hitl, Node, parse_part
from api.services.kasal_import.text import Ids
from workflows.compiler import Loc

_APPROVER = re.compile(r"^(viewer|operator|editor|admin|[^@\s]+@[^@\s]+)$")
_ALWAYS = {"", "true", "always", "otherwise", "else", "default"}
_MAX_GATE_TIMEOUT = 365 * 86_400
_TIMEOUT_ACTIONS = {"auto_reject": "reject", "reject": "reject", "fail": "fail"}
_TIMEOUT_ACTIONS |= {"auto_approve": "approve", "approve": "approve"}
NO_ROUTE = "none"


@dataclass(frozen=True)
class CrewRef:
    """What a ``crewNode`` names, for the service to find among the crews."""

    loc: Loc
    node_id: str
    crew_id: str | None
    names: tuple[str, ...]


@dataclass(frozen=True)
class CrewTarget:
    """A crew found: the definition's name and the inputs it declares."""

    name: str
    inputs: tuple[str, ...]


def crew_refs(flow: Flow, loc: Loc) -> list[CrewRef]:
    refs = []
    for index, node in enumerate(flow.nodes):
        if node.type == "crewNode":
            data = node.data
            crew_id = data.get("crewId")
            names = tuple(str(data[key]).strip() for key in ("crewName", "label") if data.get(key))
            refs.append(
                CrewRef(
                    [*loc, "nodes", index, "data"],
                    node.id,
                    None if crew_id is None else str(crew_id),
                    names,
                )
            )
    return refs


@dataclass
class _Builder:
    flow: Flow
    loc: Loc
    crews: dict[str, CrewTarget]  # crewNode id → crew
    notes: Notes
    ids: Ids = field(default_factory=Ids)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id → step
    extra: list[dict[str, Any]] = field(default_factory=list)  # gates and routers
    layout: dict[str, dict[str, float]] = field(default_factory=dict)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)


def translate_flow(
    flow: Flow, loc: Loc, crews: dict[str, CrewTarget], notes: Notes
) -> Translated | None:
    """Our definition of ``flow``, the crews of its ``crewNode``s already found."""
    errors_before = len(notes.errors)
    b = _Builder(flow, loc, crews, notes)
    inputs: list[str] = []
    for index, node in enumerate(flow.nodes):
        node_loc = [*loc, "nodes", index]
        if node.position is not None:
            b.positions[node.id] = (node.position.x, node.position.y)
        if node.type == "crewNode" and node.id in crews:
            crew = crews[node.id]
            step_id = b.ids.make(node.data.get("label"), crew.name, node.id)
            b.steps[node.id] = {
                "id": step_id,
                "type": "workflow",
                "after": [],
                "workflow": crew.name,
                "version": "latest",
                "inputs": {name: f"{{{name}}}" for name in crew.inputs},
            }
            inputs += [name for name in crew.inputs if name not in inputs]
            if node.data.get("selectedTasks"):
                notes.warn([*node_loc, "data", "selectedTasks"], "the whole crew runs here")
        elif node.type == "hitlGateNode":
            hitl = parse_part(Hitl, node.data, node_loc, notes)
            if hitl is not None:
                step_id = b.ids.make(node.data.get("label"), "approval")
                b.steps[node.id] = _gate(step_id, [], hitl, node_loc, notes, "Approve to go on")
        elif node.type != "crewNode":
            notes.warn([*node_loc, "type"], f"node type '{node.type}' is not imported")
        if node.id in b.steps and node.id in b.positions:
            x, y = b.positions[node.id]
            b.layout[b.steps[node.id]["id"]] = {"x": x, "y": y}
    routers: dict[str, list[tuple[int, Edge]]] = {}
    for index, edge in enumerate(flow.edges):
        edge_loc = [*loc, "edges", index]
        if edge.source not in b.steps or edge.target not in b.steps:
            notes.warn(edge_loc, f"edge {edge.source} → {edge.target} joins no imported steps")
            continue
        logic = (edge.data.logicType if edge.data else None) or "NONE"
        if logic.upper() == "ROUTER":
            routers.setdefault(edge.source, []).append((index, edge))
            continue
        if logic.upper() == "OR":
            b.steps[edge.target]["join"] = "any"
        _connect(b, b.steps[edge.source]["id"], edge, edge_loc)
    for source, edges in routers.items():
        _router(b, source, edges)
    if len(notes.errors) > errors_before:
        return None
    if not b.steps:
        notes.error([*loc, "nodes"], "a flow needs at least one crewNode")
        return None
    description = f"Imported from Kasal flow '{flow.name}'" + (
        f" ({flow.kasal_id})." if flow.kasal_id else "."
    )
    return Translated(
        loc=loc,
        kind="flow",
        kasal_id=flow.kasal_id,
        name=flow.name.strip(),
        description=description,
        spec={
            "inputs": [{"name": name, "required": True} for name in inputs],
            "steps": [*b.steps.values(), *b.extra],
        },
        layout={"nodes": b.layout, "kasal": {"kind": "flow", "id": flow.kasal_id}},
    )


def _connect(b: _Builder, upstream: str, edge: Edge, loc: Loc) -> None:
    """``edge``'s target after ``upstream``, through an approval gate if the edge has one."""
    target = b.steps[edge.target]
    hitl = edge.data.hitl if edge.data else None
    if hitl is not None and hitl.enabled:
        gate_id = b.ids.make(f"approve_{target['id']}")
        message = f"Approve before '{target['id']}' runs"
        b.extra.append(_gate(gate_id, [upstream], hitl, [*loc, "data", "hitl"], b.notes, message))
        _place_between(b, gate_id, edge)
        upstream = gate_id
    if upstream not in target["after"]:
        target["after"].append(upstream)


def _router(b: _Builder, source: str, edges: list[tuple[int, Edge]]) -> None:
    router_id = b.ids.make(f"{b.steps[source]['id']}_router")
    routes: list[dict[str, str]] = []
    targets: dict[str, list[str]] = {}
    default = NO_ROUTE
    for index, edge in edges:
        edge_loc = [*b.loc, "edges", index]
        name = b.steps[edge.target]["id"]
        text, text_loc = _condition(b, edge, edge_loc)
        before = len(b.extra)
        _connect(b, router_id, edge, edge_loc)
        # The route chooses the gate when the edge has one, else the step itself.
        targets[name] = [b.extra[-1]["id"] if len(b.extra) > before else name]
        if text is None or text.strip().lower() in _ALWAYS:
            if text is None:
                b.notes.warn(edge_loc, "a ROUTER edge without a condition: always taken")
            default = name
            continue
        try:
            expression = conditions.translate(text, b.steps[source]["id"])
        except conditions.Untranslatable as exc:
            b.notes.warn(
                text_loc,
                f"condition '{text}' cannot be translated ({exc}): the route to "
                f"'{name}' never holds; edit it in the designer",
            )
            expression = conditions.NEVER
        routes.append({"name": name, "if": expression})
    if default == NO_ROUTE:
        targets[NO_ROUTE] = []
    if not routes:  # every edge always taken: a route that never holds keeps it a router
        routes.append({"name": NO_ROUTE, "if": conditions.NEVER})
        targets.setdefault(NO_ROUTE, [])
    b.extra.insert(
        0,
        {
            "id": router_id,
            "type": "router",
            "after": [b.steps[source]["id"]],
            "routes": routes,
            "default": default,
            "targets": targets,
        },
    )
    x, y = b.positions.get(source, (0.0, 0.0))
    b.layout[router_id] = {"x": x + 120, "y": y + 120}


def _condition(b: _Builder, edge: Edge, loc: Loc) -> tuple[str | None, Loc]:
    """The edge's own ``routerCondition``, else the ``routeConditions`` entry of the
    ``flow_config`` router that listens to its source and routes to its target."""
    if edge.data is not None and edge.data.routerCondition is not None:
        return edge.data.routerCondition, [*loc, "data", "routerCondition"]
    source_tasks = set(edge.data.listenToTaskIds or []) if edge.data else set()
    target_tasks = set(edge.data.targetTaskIds or []) if edge.data else set()
    target_crew = str(_node(b.flow, edge.target).data.get("crewId") or "")
    routers = b.flow.config.get("routers") or []
    for index, router in enumerate(routers if isinstance(routers, list) else []):
        if not isinstance(router, dict):
            continue
        listens = router.get("listenTo") or []
        listens = set(listens if isinstance(listens, list) else [listens])
        if source_tasks and not source_tasks & {str(x) for x in listens}:
            continue
        route_conditions = router.get("routeConditions") or {}
        for name, configs in (router.get("routes") or {}).items():
            configs = configs if isinstance(configs, list) else [configs]
            crews = {str(c.get("crewId")) for c in configs if isinstance(c, dict)}
            tasks = {str(c.get("id")) for c in configs if isinstance(c, dict)}
            if target_crew in crews or target_tasks & tasks:
                where = [*b.loc, "flow_config", "routers", index, "routeConditions", name]
                condition = route_conditions.get(name)
                return (str(condition) if condition is not None else None), where
    return None, loc


def _node(flow: Flow, node_id: str) -> Node:
    return next(node for node in flow.nodes if node.id == node_id)


def _gate(
    step_id: str, after: list[str], hitl: Hitl, loc: Loc, notes: Notes, message: str
) -> dict[str, Any]:
    gate: dict[str, Any] = {
        "id": step_id,
        "type": "approval",
        "after": after,
        "message": (hitl.message or "").strip() or message,
    }
    if hitl.timeout_seconds is not None and hitl.timeout_seconds > 0:
        gate["timeout_seconds"] = min(hitl.timeout_seconds, _MAX_GATE_TIMEOUT)
    action = (hitl.timeout_action or "auto_reject").lower()
    if action not in _TIMEOUT_ACTIONS:
        notes.warn(
            [*loc, "timeout_action"], f"timeout_action '{hitl.timeout_action}' becomes 'reject'"
        )
    gate["on_timeout"] = _TIMEOUT_ACTIONS.get(action, "reject")
    if hitl.require_comment:
        notes.warn([*loc, "require_comment"], "a comment is optional here")
    approvers = []
    for index, approver in enumerate(hitl.allowed_approvers or []):
        if _APPROVER.match(approver.strip()):
            approvers.append(approver.strip())
        else:
            notes.warn(
                [*loc, "allowed_approvers", index],
                f"'{approver}' is neither an email nor a role: dropped",
            )
    if approvers:
        gate["approvers"] = approvers
    return gate


def _place_between(b: _Builder, step_id: str, edge: Edge) -> None:
    if edge.source in b.positions and edge.target in b.positions:
        (x1, y1), (x2, y2) = b.positions[edge.source], b.positions[edge.target]
        b.layout[step_id] = {"x": (x1 + x2) / 2, "y": (y1 + y2) / 2 + 100}
