"""The saved definitions a definition's ``workflow`` steps call, pinned for the compiler.

Each is looked up by name in the workspace, at the version the step names (``latest``:
the newest now), checked like any definition against the same model configs and tools,
and resolved in turn for its own ``workflow`` steps. A call that cannot be resolved is
answered with the reason, which the compiler reports at the step's ``workflow`` field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from db.uow import UnitOfWork
from workflows.compiler import CompilationFailed, called_workflows, validate_definition
from workflows.plan import ChildWorkflow
from workflows.tools import PinnedTool, resolve_tool

# A chain of calls deeper than this is refused: each level is a child run of the last.
MAX_DEPTH = 8


async def resolve_called_workflows(
    uow: UnitOfWork,
    spec: Mapping[str, Any],
    models: Collection[str],
    tools: Mapping[str, PinnedTool],
    calling: tuple[str, ...] = (),
) -> dict[str, ChildWorkflow | str]:
    """``{"name@version": ChildWorkflow or why not}`` for every call in ``spec``.

    ``calling`` names the definitions above this one, the root's name first when it has
    one, so that a definition that calls itself, however far down, is refused."""
    resolved: dict[str, ChildWorkflow | str] = {}
    for name, version in called_workflows(spec):
        key = f"{name}@{version}"
        if key not in resolved:
            resolved[key] = await _resolve(uow, name, version, models, tools, calling)
    return resolved


async def _resolve(
    uow: UnitOfWork,
    name: str,
    version: int | str,
    models: Collection[str],
    tools: Mapping[str, PinnedTool],
    calling: tuple[str, ...],
) -> ChildWorkflow | str:
    if name in calling:
        return "calls itself: " + " → ".join([*calling, name])
    if len(calling) >= MAX_DEPTH:
        return f"calls nest deeper than {MAX_DEPTH} workflows"
    workflow = await uow.workflows.get_live_by_name(name)
    if workflow is None:
        return f"unknown workflow '{name}'"
    number = workflow.latest_version if version == "latest" else version
    stored = (
        await uow.workflows.get_version(workflow.id, number) if isinstance(number, int) else None
    )
    if stored is None:
        return f"workflow '{name}' has no version {version}"
    children = await resolve_called_workflows(uow, stored.spec, models, tools, (*calling, name))
    try:
        definition = validate_definition(stored.spec, models, tools, children)
    except CompilationFailed as failed:
        return f"workflow '{name}' version {number} does not compile now: {failed}"
    pinned: dict[str, PinnedTool] = {}
    for agent in definition.agents:
        for tool_name in agent.tools:
            tool = resolve_tool(tool_name, tools)
            if tool is not None:
                pinned[tool_name] = tool
    return ChildWorkflow(
        workflow_id=str(workflow.id),
        workflow_name=workflow.name,
        version=stored.version,
        definition=definition,
        tools=pinned,
        children={
            key: child for key, child in children.items() if isinstance(child, ChildWorkflow)
        },
    )
