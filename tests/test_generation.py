"""Generating a workflow from a prompt: the API starts GenerateDefinitionWorkflow on the
real dev server, a real worker asks the stub LLM over HTTP, compiles the answer against
the workspace and sends the errors back for repairs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from activities.generation import first_json_object
from api.authorization import WORKSPACE_HEADER
from tests.api_stack import ADMIN_EMAIL, ApiStack
from tests.conftest import STUB_API_KEY, STUB_MODEL
from tests.helpers import agent, assert_replays, eventually, task
from tests.stub_llm import Reply, StubLLM
from workflows.generation import MAX_REPAIRS

# Every request for a definition carries the instructions; a run's steps do not.
INSTRUCTIONS = "You design workflows for Kasal"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def definition(agent_id: str = "writer") -> dict[str, Any]:
    """A definition whose task names ``agent_id``; only "writer" exists."""
    return {
        "inputs": [{"name": "topic"}],
        "agents": [agent()],
        "steps": [
            {**task("draft"), "agent": agent_id, "description": "Write about {topic}."},
            {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"},
        ],
    }


def answer(spec: dict[str, Any]) -> Reply:
    """The model's answer: the definition in a fence, with a sentence before it."""
    return Reply(f"Here is your workflow:\n```json\n{json.dumps(spec)}\n```")


async def generate(http: httpx.AsyncClient, model: str = STUB_MODEL) -> str:
    response = await http.post(
        "/workflows/generate",
        json={"prompt": "Draft a post on a topic, then ask me", "model": model},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["generation_id"])


async def finished(http: httpx.AsyncClient, generation_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        response = await http.get(f"/workflows/generations/{generation_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return await eventually(read, lambda body: body["status"] != "running", timeout=30)


def test_the_first_json_object_is_found_in_fences_and_prose() -> None:
    assert first_json_object('```json\n{"a": {"b": 1}}\n```') == {"a": {"b": 1}}
    assert first_json_object('Sure! {not json} then {"steps": []} and {"x": 1}') == {"steps": []}
    assert first_json_object("no object [1, 2]") is None


@sqlite_only
async def test_compile_errors_go_back_to_the_model_until_it_compiles_and_it_runs(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    spec = definition()
    spec["steps"] = spec["steps"][:1]  # no gate to wait on when it runs
    stub_llm.script(INSTRUCTIONS, answer({**spec, "agents": []}), answer(spec))
    generation_id = await generate(api.http)
    body = await finished(api.http, generation_id)
    assert body == {"status": "completed", "spec": spec, "errors": None}
    assert stub_llm.call_count(INSTRUCTIONS) == 2
    first, repair = stub_llm.calls(INSTRUCTIONS)
    # The repair shows the model its answer and where it went wrong.
    errors = json.loads(_errors_of(repair.messages_text))
    assert [error["loc"] for error in errors] == [["steps", 0, "agent"]]
    assert '"agents": []' in repair.messages_text
    # The stub is not known to litellm: the schema comes in the prompt, not as a format.
    assert "response_format" not in first.body
    assert '"title":"WorkflowDefinition"' in first.messages_text
    assert 'Model configs: "stub".' in first.messages_text
    # Nothing was saved, and the generation is its workspace's alone.
    assert (await api.http.get("/workflows")).json()["total"] == 0
    elsewhere = await api.http.get(
        f"/workflows/generations/{generation_id}", headers={WORKSPACE_HEADER: ADMIN_EMAIL}
    )
    assert elsewhere.status_code == 404
    await assert_replays(api.env.client.get_workflow_handle(f"generation-{generation_id}"))

    created = await api.http.post("/workflows", json={"name": "generated", "spec": body["spec"]})
    assert created.status_code == 201, created.text
    started = await api.http.post(
        f"/workflows/{created.json()['id']}/runs", json={"inputs": {"topic": "tides"}}
    )
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]

    async def run() -> dict[str, Any]:
        found: dict[str, Any] = (await api.http.get(f"/runs/{run_id}")).json()
        return found

    ended = await eventually(run, lambda found: found["status"] != "running", timeout=30)
    assert ended["status"] == "completed"
    assert "Write about tides." in stub_llm.calls()[-1].messages_text


def _errors_of(repair_text: str) -> str:
    """The JSON list of errors in a repair prompt."""
    start = repair_text.rindex("(`msg`):\n") + len("(`msg`):\n")
    return repair_text[start : repair_text.index("\nAnswer with the whole", start)]


@sqlite_only
async def test_answers_that_never_compile_end_failed_with_the_last_errors(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    ghosts = [f"ghost{n}" for n in range(1, MAX_REPAIRS + 2)]
    stub_llm.script(INSTRUCTIONS, *(answer(definition(ghost)) for ghost in ghosts))
    body = await finished(api.http, await generate(api.http))
    assert body["status"] == "failed" and body["spec"] is None
    assert [error["loc"] for error in body["errors"]] == [["steps", 0, "agent"]]
    assert ghosts[-1] in body["errors"][0]["msg"]
    assert stub_llm.call_count(INSTRUCTIONS) == 1 + MAX_REPAIRS


@sqlite_only
async def test_structured_output_where_litellm_says_the_provider_has_it(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    unknown = await api.http.post("/workflows/generate", json={"prompt": "x", "model": "gpt"})
    assert unknown.status_code == 422
    assert [item["loc"] for item in unknown.json()["detail"]] == [["body", "model"]]
    blank = await api.http.post("/workflows/generate", json={"prompt": "  ", "model": STUB_MODEL})
    assert [item["loc"] for item in blank.json()["detail"]] == [["body", "prompt"]]
    # A model litellm knows to support response schemas, served by the stub.
    config = {"name": "gpt", "model": "openai/gpt-4o", "api_base": stub_llm.url}
    response = await api.http.post("/models", json={**config, "api_key": STUB_API_KEY})
    assert response.status_code == 201, response.text
    spec = definition()
    spec["agents"][0]["llm"] = "gpt"
    stub_llm.script(INSTRUCTIONS, Reply(json.dumps(spec)))
    body = await finished(api.http, await generate(api.http, model="gpt"))
    assert body == {"status": "completed", "spec": spec, "errors": None}
    sent = stub_llm.calls(INSTRUCTIONS)[0].body["response_format"]
    assert sent["type"] == "json_schema"
    assert "steps" in sent["json_schema"]["schema"]["properties"]
    unknown_id = await api.http.get("/workflows/generations/00000000-0000-4000-8000-000000000000")
    assert unknown_id.status_code == 404


@sqlite_only
async def test_a_refused_key_fails_at_once_and_is_not_shown(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(INSTRUCTIONS, Reply.echo_key_401())
    body = await finished(api.http, await generate(api.http))
    assert body["status"] == "failed"
    assert "AuthenticationError" in body["errors"][0]["msg"]
    assert STUB_API_KEY not in json.dumps(body)
    assert stub_llm.call_count(INSTRUCTIONS) == 1


@sqlite_only
async def test_429s_and_500s_are_retried_and_an_answer_without_json_is_repaired(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        INSTRUCTIONS,
        Reply.error(429, retry_after=0),
        Reply.error(500),
        Reply("I would research first, then write."),
        answer(definition()),
    )
    body = await finished(api.http, await generate(api.http))
    assert body == {"status": "completed", "spec": definition(), "errors": None}
    calls = stub_llm.calls(INSTRUCTIONS)
    assert [call.status for call in calls] == [429, 500, 200, 200]
    assert "holds no JSON object" in calls[3].messages_text


@sqlite_only
async def test_a_generated_call_to_a_saved_workflow_is_resolved_like_a_saved_one(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """The catalogue resolves the saved definitions a generated one calls: a call with an
    input the callee lacks goes back to the model with the callee's inputs, and the
    repaired call compiles."""
    callee = {"inputs": [{"name": "text"}], "agents": [agent()], "steps": [task("sum")]}
    saved = await api.http.post("/workflows", json={"name": "summarise", "spec": callee})
    assert saved.status_code == 201, saved.text

    def calling(input_name: str) -> dict[str, Any]:
        call = {"id": "call", "type": "workflow", "workflow": "summarise"}
        return {
            "inputs": [{"name": "topic"}],
            "agents": [agent()],
            "steps": [{**call, "inputs": {input_name: "{topic}"}}],
        }

    stub_llm.script(INSTRUCTIONS, answer(calling("body")), answer(calling("text")))
    body = await finished(api.http, await generate(api.http))
    assert body == {"status": "completed", "spec": calling("text"), "errors": None}
    _, repair = stub_llm.calls(INSTRUCTIONS)
    errors = json.loads(_errors_of(repair.body["messages"][-1]["content"]))
    assert {
        "loc": ["steps", 0, "inputs"],
        "msg": "workflow 'summarise' needs the input 'text'",
    } in errors
    assert {
        "loc": ["steps", 0, "inputs", "body"],
        "msg": "workflow 'summarise' has no input 'body' (inputs: text)",
    } in errors


@sqlite_only
async def test_a_generated_output_schema_that_is_no_json_schema_goes_back_to_the_model(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """Saving refuses it, so a draft with it is no answer: the model repairs it."""

    def with_schema(schema: dict[str, Any]) -> dict[str, Any]:
        return {"agents": [agent()], "steps": [{**task("label"), "output_schema": schema}]}

    broken, fixed = with_schema({"type": "label"}), with_schema({"type": "object"})
    stub_llm.script(INSTRUCTIONS, answer(broken), answer(fixed))
    body = await finished(api.http, await generate(api.http))
    assert body == {"status": "completed", "spec": fixed, "errors": None}
    _, repair = stub_llm.calls(INSTRUCTIONS)
    [error] = json.loads(_errors_of(repair.body["messages"][-1]["content"]))
    assert error["loc"] == ["steps", 0, "output_schema"]
    assert error["msg"].startswith("not a valid JSON Schema")
