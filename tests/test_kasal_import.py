"""POST /api/v1/import/kasal over HTTP: every published example imports, compiles and runs
on the stub LLM; conflicts, unknown models and crews, and bad shapes store nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api_stack import ApiStack
from tests.conftest import STUB_API_KEY
from tests.helpers import eventually
from tests.stub_llm import StubLLM

EXAMPLES = Path(__file__).parent / "fixtures" / "kasal_examples"
KASAL_MODEL = "databricks-claude-sonnet-4"
TO_STUB = {KASAL_MODEL: "stub"}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{name}.json").read_text()))


def crew_files() -> list[Path]:
    return sorted(EXAMPLES.glob("crew_*.json"))


async def total(api: ApiStack) -> int:
    return int((await api.http.get("/workflows")).json()["total"])


async def import_kasal(api: ApiStack, body: Any, status: int = 201, **params: str) -> Any:
    response = await api.http.post("/import/kasal", json=body, params=params)
    assert response.status_code == status, response.text
    return response.json()


async def test_the_example_crews_import_as_one_bundle_and_compile(api: ApiStack) -> None:
    crews = [json.loads(path.read_text()) for path in crew_files()]
    result = await import_kasal(api, {"model_map": TO_STUB, "crews": crews})
    kinds = [(item["name"], item["kind"], item["version"]) for item in result["created"]]
    assert kinds == [(c["name"], "crew", 1) for c in crews]
    dropped = [w for w in result["warnings"] if "Databricks Dashboard Creator" in w["msg"]]
    assert dropped and dropped[0]["loc"][:2] == ["crews", 0]
    for item in result["created"]:
        spec = (await api.http.get(f"/workflows/{item['id']}")).json()["spec"]
        checked = await api.http.post("/workflows/validate", json={"spec": spec})
        assert checked.status_code == 200, checked.text


async def test_the_example_flow_imports_with_its_crews_and_compiles(api: ApiStack) -> None:
    crews = [json.loads(path.read_text()) for path in crew_files()]
    flow = example("flow_pbi_to_dashboard_pipeline")
    body = {"model_map": TO_STUB, "crews": crews, "flows": [flow]}
    result = await import_kasal(api, body)
    assert [item["kind"] for item in result["created"]] == ["crew"] * len(crews) + ["flow"]
    flow_spec = (await api.http.get(f"/workflows/{result['created'][-1]['id']}")).json()["spec"]
    checked = await api.http.post("/workflows/validate", json={"spec": flow_spec})
    assert checked.status_code == 200, checked.text
    steps = {s["id"]: s for s in flow_spec["steps"]}
    assert steps["pbi_visual_ucmv_mapper"]["workflow"] == "PBI Visual-UCMV Mapper"
    assert steps["approve_pbi_visual_ucmv_mapper"]["type"] == "approval"


async def test_each_file_imports_alone_once_its_model_exists(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    model = {"name": KASAL_MODEL, "model": "openai/stub-model", "api_base": stub_llm.url}
    created = await api.http.post("/models", json={**model, "api_key": STUB_API_KEY})
    assert created.status_code == 201, created.text
    for path in crew_files():
        result = await import_kasal(api, json.loads(path.read_text()))
        assert [item["kind"] for item in result["created"]] == ["crew"]
    # The flow finds the crews imported before, by their Kasal ids.
    result = await import_kasal(api, example("flow_pbi_to_dashboard_pipeline"))
    assert [item["kind"] for item in result["created"]] == ["flow"]
    assert await total(api) == len(crew_files()) + 1


async def test_a_taken_name_is_409_unless_on_conflict_says(api: ApiStack) -> None:
    body = {"model_map": TO_STUB, "crew": example("crew_metric_view_deployer")}
    [first] = (await import_kasal(api, body))["created"]
    refused = await import_kasal(api, body, status=409)
    assert "Metric View Deployer" in refused["detail"]
    assert await total(api) == 1
    [again] = (await import_kasal(api, body, on_conflict="new_version"))["created"]
    assert (again["id"], again["version"]) == (first["id"], 2)
    [renamed] = (await import_kasal(api, body, on_conflict="rename"))["created"]
    assert renamed["name"] == "Metric View Deployer (2)" and renamed["id"] != first["id"]
    assert await total(api) == 2
    refused = await api.http.post("/import/kasal", json=body, params={"on_conflict": "merge"})
    assert refused.status_code == 422


async def test_unknown_models_and_crews_are_422_and_store_nothing(api: ApiStack) -> None:
    flow = example("flow_pbi_to_dashboard_pipeline")
    crew = example("crew_pbi_report_references")
    errors = (await import_kasal(api, {"crews": [crew], "flows": [flow]}, status=422))["detail"]
    [model] = [e for e in errors if KASAL_MODEL in e["msg"]]
    assert model["loc"] == ["crews", 0, "nodes", 0, "data", "llm"]
    assert await total(api) == 0

    # The models mapped, the flow's other two crews are still missing: the crew that
    # was fine is not stored either.
    body = {"model_map": TO_STUB, "crews": [crew], "flows": [flow]}
    errors = (await import_kasal(api, body, status=422))["detail"]
    assert [e["loc"] for e in errors] == [
        ["flows", 0, "nodes", 1, "data", "crewId"],
        ["flows", 0, "nodes", 2, "data", "crewId"],
    ]
    assert "'PBI Visual-UCMV Mapper'" in errors[0]["msg"]
    assert await total(api) == 0


async def test_bad_shapes_are_422_with_loc(api: ApiStack) -> None:
    assert (await api.http.post("/import/kasal", json=[])).status_code == 422
    errors = (await import_kasal(api, {"crews": [{"name": "x"}]}, status=422))["detail"]
    assert [e["loc"] for e in errors] == [["crews", 0, "nodes"]]
    errors = (await import_kasal(api, {"hello": "world"}, status=422))["detail"]
    assert errors[0]["loc"] == []


async def test_export_gives_our_json_and_yaml(api: ApiStack) -> None:
    body = {"model_map": TO_STUB, "crew": example("crew_genie_space_generator")}
    [crew] = (await import_kasal(api, body))["created"]
    stored = (await api.http.get(f"/workflows/{crew['id']}")).json()
    as_json = await api.http.get(f"/workflows/{crew['id']}/export")
    as_yaml = await api.http.get(f"/workflows/{crew['id']}/export", params={"format": "yaml"})
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    expected = {k: stored[k] for k in ("name", "description", "spec", "layout")}
    assert as_json.json() == yaml.safe_load(as_yaml.text) == expected


async def run_approving_gates(api: ApiStack, workflow_id: str) -> tuple[dict[str, Any], list[str]]:
    """Start the workflow with every input filled, approve each gate it waits at through
    the inbox, and answer the closed run and the gates approved, in order."""
    spec = (await api.http.get(f"/workflows/{workflow_id}")).json()["spec"]
    inputs = {i["name"]: f"some {i['name']}" for i in spec["inputs"]}
    started = await api.http.post(f"/workflows/{workflow_id}/runs", json={"inputs": inputs})
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]

    async def read() -> dict[str, Any]:
        return dict((await api.http.get(f"/runs/{run_id}")).json())

    async def undecided() -> list[dict[str, Any]]:
        # The run's own gates, and any inside a crew's child run (`<run_id>.<step>.<n>`);
        # the inbox reads Temporal's visibility, which may still list a gate just decided.
        items = (await api.http.get("/approvals")).json()["items"]
        return [
            i for i in items if i["run_id"].split(".")[0] == run_id and i["step_id"] not in decided
        ]

    decided: list[str] = []
    for _ in range(10):  # more rounds than gates would mean a decision did not take
        run = await eventually(read, lambda r: r["status"] != "running", timeout=60)
        if run["status"] != "waiting_for_approval":
            break
        for item in await eventually(undecided, bool):
            url = f"/runs/{item['run_id']}/steps/{item['step_id']}/decision"
            response = await api.http.post(url, json={"decision": "approve"})
            assert response.status_code == 200, response.text
            decided.append(item["step_id"])
    return run, decided


async def test_every_example_crew_runs_on_the_stub_llm(api: ApiStack, stub_llm: StubLLM) -> None:
    stub_llm.default_text = 'Final Answer: {"status": "done"}'
    crews = [json.loads(path.read_text()) for path in crew_files()]
    created = (await import_kasal(api, {"model_map": TO_STUB, "crews": crews}))["created"]
    steps: dict[str, list[str]] = {}
    for item in created:
        run, _ = await run_approving_gates(api, item["id"])
        assert run["status"] == "completed", (item["name"], run)
        assert {s["status"] for s in run["steps"]} <= {"completed", "approved"}, run
        steps[item["name"]] = [s["id"] for s in run["steps"]]
    assert steps["UCMV → Deploy → Genie Space Pipeline"] == [
        "generate_uc_metric_views",
        "deploy_uc_metric_views",
        "deploy_genie_space",
    ]


async def test_the_example_flow_runs_on_the_stub_llm_through_its_gates(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.default_text = 'Final Answer: {"status": "done"}'
    crews = [json.loads(path.read_text()) for path in crew_files()]
    flow = example("flow_pbi_to_dashboard_pipeline")
    body = {"model_map": TO_STUB, "crews": crews, "flows": [flow]}
    created = (await import_kasal(api, body))["created"][-1]
    run, decided = await run_approving_gates(api, created["id"])
    assert run["status"] == "completed", run
    # Kasal's hitl edges, approved through the inbox in the order the flow reached them.
    assert decided == ["approve_pbi_visual_ucmv_mapper", "approve_databricks_dashboard_creator"]
    assert [(s["id"], s["status"]) for s in run["steps"]] == [
        ("pbi_report_references", "completed"),
        ("approve_pbi_visual_ucmv_mapper", "approved"),
        ("pbi_visual_ucmv_mapper", "completed"),
        ("approve_databricks_dashboard_creator", "approved"),
        ("databricks_dashboard_creator", "completed"),
    ]
    for crew_step in (s for s in run["steps"] if s["type"] == "workflow"):
        [child_id] = crew_step["child_run_ids"]
        child = (await api.http.get(f"/runs/{child_id}")).json()
        assert child["status"] == "completed" and child["steps"], child
    assert run["result"]["final_output"] == '{"status": "done"}'
