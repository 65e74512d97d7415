"""The Kasal translator alone: Kasal's JSON in, our definitions and warnings out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.services.kasal_import.crews import Translated, translate_crew
from api.services.kasal_import.flows import CrewTarget, crew_refs, translate_flow
from api.services.kasal_import.notes import Notes
from api.services.kasal_import.shapes import read_body
from workflows.compiler import compile_plan, validate_definition
from workflows.expressions import parse

EXAMPLES = Path(__file__).parent / "fixtures" / "kasal_examples"
MODEL = "databricks-claude-sonnet-4"


def agent_node(node_id: str, **data: Any) -> dict[str, Any]:
    fields = {"role": "Analyst", "goal": "Answer", "backstory": "Careful.", "llm": MODEL}
    return {"id": node_id, "type": "agentNode", "data": {**fields, **data}}


def task_node(node_id: str, **data: Any) -> dict[str, Any]:
    fields = {"label": node_id, "description": f"Do {node_id}.", "expected_output": "Text."}
    return {"id": node_id, "type": "taskNode", "data": {**fields, **data}}


def edge(source: str, target: str, **data: Any) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target, "data": data}


def crew(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], **fields: Any) -> Any:
    return {"id": "c1", "name": "Crew", "nodes": nodes, "edges": edges, **fields}


def translate(body: Any) -> tuple[Translated | None, Notes]:
    notes = Notes()
    documents = read_body(body, notes)
    assert not notes.errors, notes.errors
    [(loc, parsed)] = documents.crews
    return translate_crew(parsed, loc, documents.model_map, notes), notes


def messages(notes: Notes) -> list[str]:
    return [w.msg for w in notes.warnings]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("crew_*.json")), ids=lambda p: p.stem)
def test_every_example_crew_translates_and_compiles(path: Path) -> None:
    translated, notes = translate(json.loads(path.read_text()))
    assert translated is not None
    assert not notes.errors
    compile_plan(translated.spec, {}, [MODEL])
    # Every Kasal tool of these examples is a Databricks or Power BI tool: all dropped, named.
    assert translated.spec["agents"][0]["tools"] == []
    assert any("has no equivalent here: dropped" in m for m in messages(notes))


def test_the_pipeline_keeps_its_order_context_and_literal_braces() -> None:
    body = json.loads((EXAMPLES / "crew_ucmv_deploy_genie_space_pipeline.json").read_text())
    translated, _ = translate(body)
    assert translated is not None
    steps = translated.spec["steps"]
    assert [(s["id"], s["after"]) for s in steps] == [
        ("generate_uc_metric_views", []),
        ("deploy_uc_metric_views", ["generate_uc_metric_views"]),
        ("deploy_genie_space", ["deploy_uc_metric_views"]),
    ]
    assert translated.spec["max_parallel"] == 1
    assert "summary: {{ total, deployed, updated, errors, dry_run }}" in steps[1]["expected_output"]
    assert steps[1]["output_schema"] == {"type": "object"}  # output_json "true"
    assert steps[1]["retry"] == {"max_attempts": 3}  # retry_on_fail, max_retries 2
    agents = {a["id"] for a in translated.spec["agents"]}
    assert {s["agent"] for s in steps} == agents and len(agents) == 3


def test_placeholders_become_inputs_and_other_braces_are_doubled() -> None:
    nodes = [
        agent_node("a", goal="Write about {topic} for {audience-group}"),
        task_node("t", description='Sketch {topic} as {"k": 1} and {{x}}'),
    ]
    translated, notes = translate(crew(nodes, [edge("a", "t")]))
    assert translated is not None
    assert translated.inputs == ["topic", "audience_group", "x"]
    step = translated.spec["steps"][0]
    assert step["description"] == 'Sketch {topic} as {{"k": 1}} and {{{x}}}'
    assert translated.spec["agents"][0]["goal"] == "Write about {topic} for {audience_group}"
    assert "placeholder '{audience-group}' becomes '{audience_group}'" in messages(notes)
    plan = compile_plan(translated.spec, {"topic": "T", "audience_group": "G", "x": "X"}, [MODEL])
    assert plan.steps[0].description == 'Sketch T as {"k": 1} and {X}'


def test_tasks_without_edges_run_in_kasal_order_and_hierarchical_is_a_note() -> None:
    nodes = [agent_node("a"), task_node("second"), task_node("first")]
    body = crew(
        nodes,
        [edge("a", "second"), edge("a", "first")],
        task_ids=["first", "second"],
        process="hierarchical",
        manager_llm="gpt-4o",
    )
    translated, notes = translate(body)
    assert translated is not None
    assert [(s["id"], s["after"]) for s in translated.spec["steps"]] == [
        ("first", []),
        ("second", ["first"]),
    ]
    assert "hierarchical" in translated.description and "gpt-4o" in translated.description
    assert any("runs sequentially" in m for m in messages(notes))


def test_string_booleans_human_input_and_the_only_agent_fallback() -> None:
    config = {"human_input": "true", "retry_on_fail": "false", "output_json": "false"}
    nodes = [agent_node("a", allow_delegation="false"), task_node("t", config=config)]
    translated, notes = translate(crew(nodes, [], tools=None))
    assert translated is not None
    task, gate = translated.spec["steps"]
    assert task["agent"] == "analyst" and task["retry"] == {"max_attempts": 1}
    assert "output_schema" not in task
    assert (gate["type"], gate["after"], gate["on_reject"]) == ("approval", ["t"], "retry_upstream")
    assert "no agent edge: the crew's only agent does it" in messages(notes)
    validate_definition(translated.spec, [MODEL])


def test_a_task_without_any_agent_is_an_error_at_its_loc() -> None:
    nodes = [agent_node("a"), agent_node("b", role="Other"), task_node("t")]
    notes = Notes()
    [(loc, parsed)] = read_body({"crews": [crew(nodes, [])]}, notes).crews
    assert translate_crew(parsed, loc, {}, notes) is None
    assert [e.loc for e in notes.errors] == [["crews", 0, "nodes", 2, "data", "agent_id"]]


def test_a_mapped_kasal_tool_and_a_json_schema_output() -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    nodes = [agent_node("a", tools=["26", 95]), task_node("t", config={"output_json": schema})]
    translated, notes = translate(crew(nodes, [edge("a", "t")]))
    assert translated is not None
    assert translated.spec["agents"][0]["tools"] == ["fetch_url"]
    assert translated.spec["steps"][0]["output_schema"] == schema
    assert any("'95' (Databricks Dashboard Creator)" in m for m in messages(notes))


def flow_body(edges: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    nodes = [
        {"id": n, "type": "crewNode", "position": {"x": i * 100, "y": 0}, "data": {"label": n}}
        for i, n in enumerate(("classify", "refund", "other"))
    ]
    return {"id": "f1", "name": "Flow", "nodes": nodes, "edges": edges, **extra}


def translate_flow_body(body: dict[str, Any]) -> tuple[Translated, Notes]:
    notes = Notes()
    [(loc, flow)] = read_body(body, notes).flows
    targets = {r.node_id: CrewTarget(r.names[0], ("topic",)) for r in crew_refs(flow, loc)}
    translated = translate_flow(flow, loc, targets, notes)
    assert translated is not None and not notes.errors
    return translated, notes


def test_router_edges_become_a_router_with_translated_conditions() -> None:
    hitl = {"enabled": "true", "message": "Pay it?", "timeout_action": "fail"}
    edges = [
        edge(
            "classify",
            "refund",
            logicType="ROUTER",
            routerCondition="state.get('label') == 'refund'",
            hitl=hitl,
        ),
        edge("classify", "other", logicType="ROUTER", routerCondition="state.get('n') + 1 > 2"),
    ]
    translated, notes = translate_flow_body(flow_body(edges))
    steps = {s["id"]: s for s in translated.spec["steps"]}
    router = steps["classify_router"]
    assert router["after"] == ["classify"]
    assert router["routes"] == [
        {"name": "refund", "if": 'output("classify").label == "refund"'},
        {"name": "other", "if": "false"},
    ]
    assert router["targets"] == {"refund": ["approve_refund"], "other": ["other"], "none": []}
    assert steps["approve_refund"]["after"] == ["classify_router"]
    assert steps["approve_refund"]["on_timeout"] == "fail"
    assert steps["refund"]["after"] == ["approve_refund"]
    assert steps["refund"]["inputs"] == {"topic": "{topic}"}
    [warning] = [w for w in notes.warnings if "cannot be translated" in w.msg]
    assert warning.loc == ["edges", 1, "data", "routerCondition"]
    for route in router["routes"]:
        parse(route["if"])


def test_route_conditions_come_from_flow_config_when_the_edge_has_none() -> None:
    edges = [edge("classify", "refund", logicType="ROUTER", listenToTaskIds=["t1"])]
    body = flow_body(edges)
    body["nodes"][1]["data"]["crewId"] = "refund-crew"
    body["flow_config"] = {
        "routers": [
            {
                "listenTo": ["t1"],
                "routes": {"is_refund": [{"id": "t9", "crewId": "refund-crew"}]},
                "routeConditions": {"is_refund": "'refund' in state['label']"},
            }
        ]
    }
    translated, _ = translate_flow_body(body)
    [router] = [s for s in translated.spec["steps"] if s["type"] == "router"]
    assert router["routes"] == [
        {"name": "refund", "if": 'output("classify").label contains "refund"'}
    ]


def test_a_hitl_gate_node_becomes_an_approval_with_its_approvers() -> None:
    body = flow_body([edge("classify", "gate"), edge("gate", "refund")])
    gate = {"message": "Go?", "timeout_seconds": 60, "allowed_approvers": ["ann@x.io", "bad one"]}
    body["nodes"].append({"id": "gate", "type": "hitlGateNode", "data": {"label": "Gate", **gate}})
    translated, notes = translate_flow_body(body)
    steps = {s["id"]: s for s in translated.spec["steps"]}
    assert steps["gate"]["approvers"] == ["ann@x.io"]
    assert (steps["gate"]["timeout_seconds"], steps["gate"]["after"]) == (60, ["classify"])
    assert steps["refund"]["after"] == ["gate"]
    assert any("'bad one' is neither an email nor a role" in m for m in messages(notes))


def test_bad_shapes_are_located() -> None:
    cases: list[tuple[Any, list[Any]]] = [
        ([], [[]]),
        ({"something": 1}, [[]]),
        ({"crews": "no"}, [["crews"]]),
        ({"crews": [{"name": "x", "nodes": [{"id": "n"}]}]}, [["crews", 0, "nodes", 0, "type"]]),
        ({"model_map": {"a": 1}, "crew": crew([], [])}, [["model_map"]]),
    ]
    for body, locs in cases:
        notes = Notes()
        read_body(body, notes)
        assert [e.loc for e in notes.errors] == locs, body
