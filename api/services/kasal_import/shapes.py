"""Kasal's crew and flow JSON as we read it, and the request body that carries them.

The models are lenient where Kasal is (unknown fields are ignored, many fields are null,
booleans may be the strings "true"/"false", which pydantic's lax mode reads as booleans)
and strict where the translation needs something (a node's id and type, an edge's ends).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.services.kasal_import.notes import Notes
from workflows.compiler import Loc, pydantic_errors

ModelMap = dict[str, str]


class _Kasal(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Position(_Kasal):
    x: float = 0
    y: float = 0


class Node(_Kasal):
    id: str = Field(min_length=1)
    type: str
    position: Position | None = None
    data: dict[str, Any] = {}

    @field_validator("data", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class Hitl(_Kasal):
    """A human approval gate, on a flow's edge or as a ``hitlGateNode``."""

    enabled: bool = True
    message: str | None = None
    timeout_seconds: float | None = None
    timeout_action: str | None = None
    require_comment: bool | None = None
    allowed_approvers: list[str] | None = None


class EdgeData(_Kasal):
    logicType: str | None = None  # Kasal's spelling
    routerCondition: str | None = None
    listenToTaskIds: list[str] | None = None
    targetTaskIds: list[str] | None = None
    hitl: Hitl | None = None


class Edge(_Kasal):
    id: str | None = None
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    data: EdgeData | None = None


class AgentData(_Kasal):
    label: str | None = None
    role: str | None = None
    goal: str | None = None
    backstory: str | None = None
    llm: str | None = None
    tools: list[str | int] | None = None
    tool_configs: dict[str, Any] | None = None
    max_iter: int | None = None
    allow_delegation: bool | None = None
    agentId: str | None = None
    agent_id: str | None = None


class TaskConfig(_Kasal):
    output_json: Any = None
    output_pydantic: Any = None
    output_file: Any = None
    human_input: bool | None = None
    retry_on_fail: bool | None = None
    max_retries: int | None = None
    timeout: float | None = None
    guardrail: Any = None
    llm_guardrail: Any = None
    callback_function: Any = None


class TaskData(_Kasal):
    label: str | None = None
    description: str | None = None
    expected_output: str | None = None
    tools: list[str | int] | None = None
    tool_configs: dict[str, Any] | None = None
    async_execution: bool | None = None
    human_input: bool | None = None
    agentId: str | None = None
    agent_id: str | None = None
    taskId: str | None = None
    config: TaskConfig | None = None
    llm_guardrail: Any = None


class Crew(_Kasal):
    id: str | int | None = None
    name: str = Field(min_length=1, max_length=200)
    agent_ids: list[str] | None = None
    task_ids: list[str] | None = None
    nodes: list[Node]
    edges: list[Edge] = []
    process: str | None = None
    manager_llm: str | None = None
    planning: bool | None = None
    reasoning: bool | None = None

    @property
    def kasal_id(self) -> str | None:
        return None if self.id is None else str(self.id)


class Flow(_Kasal):
    id: str | int | None = None
    name: str = Field(min_length=1, max_length=200)
    nodes: list[Node]
    edges: list[Edge] = []
    flow_config: dict[str, Any] | None = None
    flowConfig: dict[str, Any] | None = None

    @property
    def kasal_id(self) -> str | None:
        return None if self.id is None else str(self.id)

    @property
    def config(self) -> dict[str, Any]:
        return self.flow_config or self.flowConfig or {}


class Documents(BaseModel):
    """What one request asks to import: each document with its loc in the body."""

    crews: list[tuple[Loc, Crew]] = []
    flows: list[tuple[Loc, Flow]] = []
    model_map: ModelMap = {}


_SHAPE = (
    'expected a Kasal crew, a Kasal flow, or a bundle {"crews": [...], "flows": [...]}, '
    'with an optional "model_map"'
)


def read_body(body: Any, notes: Notes) -> Documents:
    """The documents in a request body; what cannot be read goes to ``notes`` as errors.

    A body is one crew, one flow, ``{"crew": …}``, ``{"flow": …}``, or a bundle
    ``{"crews": [...], "flows": [...]}``; each may carry ``"model_map"`` beside it.
    """
    if not isinstance(body, dict):
        notes.error([], _SHAPE)
        return Documents()
    body = dict(body)
    model_map = _model_map(body.pop("model_map", None), notes)
    documents = Documents(model_map=model_map)
    if "crews" in body or "flows" in body:
        for section in ("crews", "flows"):
            items = body.get(section, [])
            if not isinstance(items, list):
                notes.error([section], "must be a list")
                continue
            for index, item in enumerate(items):
                _add(documents, section == "flows", [section, index], item, notes)
    elif "crew" in body or "flow" in body:
        key = "crew" if "crew" in body else "flow"
        _add(documents, key == "flow", [key], body[key], notes)
    elif "nodes" in body:
        _add(documents, _looks_like_flow(body), [], body, notes)
    else:
        notes.error([], _SHAPE)
    return documents


def _looks_like_flow(body: dict[str, Any]) -> bool:
    if "flow_config" in body or "flowConfig" in body:
        return True
    nodes = body.get("nodes")
    return isinstance(nodes, list) and any(
        isinstance(node, dict) and node.get("type") in ("crewNode", "hitlGateNode")
        for node in nodes
    )


def _add(documents: Documents, is_flow: bool, loc: Loc, item: Any, notes: Notes) -> None:
    try:
        if is_flow:
            documents.flows.append((loc, Flow.model_validate(item)))
        else:
            documents.crews.append((loc, Crew.model_validate(item)))
    except ValidationError as exc:
        notes.errors += pydantic_errors(exc, loc)


def _model_map(value: Any, notes: Notes) -> ModelMap:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        notes.error(["model_map"], "must map Kasal model names to model config names")
        return {}
    return dict(value)


def parse_part(model: type[BaseModel], data: dict[str, Any], loc: Loc, notes: Notes) -> Any:
    """A node's ``data`` read as ``model``, or None with its errors located in ``notes``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        notes.errors += pydantic_errors(exc, [*loc, "data"])
        return None
