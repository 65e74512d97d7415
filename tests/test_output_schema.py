"""A task's ``output_schema``: its answer parsed as JSON, validated, repaired once, on a real
Temporal dev server and worker with the stub LLM over HTTP; and an invalid schema refused on
save (issue 12)."""

from __future__ import annotations

import json
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from tests.api_stack import ApiStack
from tests.helpers import (
    agent,
    assert_replays,
    fast_retry,
    marker,
    start_run,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.status import RunStatus, StepStatus

LABEL = {
    "type": "object",
    "properties": {
        "label": {"enum": ["refund", "bug", "other"]},
        "confidence": {"type": "number"},
    },
    "required": ["label", "confidence"],
}


def classify_only() -> dict[str, Any]:
    return {"agents": [agent()], "steps": [task("classify", output_schema=LABEL)]}


async def test_a_valid_answer_passes_as_canonical_json_and_the_model_is_told_the_schema(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("classify"), Reply('{ "label" : "bug",\n "confidence": 0.9 }'))
    result = await (await start_run(client, worker, classify_only())).result()

    assert result.outputs_by_step()["classify"] == '{"label": "bug", "confidence": 0.9}'
    [call] = stub_llm.calls(marker("classify"))  # no repair for a valid answer
    assert json.dumps(LABEL) in call.messages_text
    assert "JSON Schema" in call.messages_text


async def test_a_fenced_and_chatty_answer_is_extracted(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    chatty = (
        'Sure! Here is the label you asked for:\n```json\n{"label": "refund", '
        '"confidence": 1, "note": "café"}\n```\nLet me know if [anything] else helps.'
    )
    stub_llm.script(marker("classify"), Reply(chatty))
    result = await (await start_run(client, worker, classify_only())).result()

    assert result.outputs_by_step()["classify"] == (
        '{"label": "refund", "confidence": 1, "note": "café"}'
    )
    assert stub_llm.call_count(marker("classify")) == 1


async def test_an_invalid_answer_is_repaired_in_one_more_call(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("classify"),
        Reply('I think {"label": "complaint", "confidence": 0.4}'),
        Reply('{"label": "other", "confidence": 0.4}'),
    )
    handle = await start_run(client, worker, classify_only())
    result = await handle.result()

    assert result.outputs_by_step()["classify"] == '{"label": "other", "confidence": 0.4}'
    first, repair = stub_llm.calls(marker("classify"))
    assert "problems were found" not in first.messages_text
    assert "problems were found" in repair.messages_text
    assert "'complaint' is not one of ['refund', 'bug', 'other']" in repair.messages_text
    assert "$.label" in repair.messages_text
    assert 'I think {"label": "complaint"' in repair.messages_text  # its own answer
    assert json.dumps(LABEL) in repair.messages_text
    # Both calls are paid for and counted as the step's.
    [step] = result.steps
    assert step.usage is not None and step.usage.llm_calls == 2
    await assert_replays(handle)


async def test_a_retried_repair_does_not_pay_again_for_the_answer_it_repairs(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("classify"),
        Reply('{"label": "bug"}'),
        Reply.error(500, "the model's server fell over"),  # the repair call, attempt 1
        Reply('{"label": "bug", "confidence": 0.5}'),
    )
    spec = {
        "agents": [agent()],
        "steps": [task("classify", output_schema=LABEL, retry=fast_retry(max_attempts=2))],
    }
    result = await (await start_run(client, worker, spec)).result()

    assert result.outputs_by_step()["classify"] == '{"label": "bug", "confidence": 0.5}'
    # Attempt 2 replays the agent's answer from the call journal and makes only the repair.
    assert stub_llm.call_count(marker("classify")) == 3
    [step] = result.steps
    assert step.attempt == 2
    # Each answered call counted once: the answer (replayed) and the repair; not the 500.
    assert step.usage is not None and step.usage.llm_calls == 2


async def test_two_invalid_answers_pause_the_step_with_the_problems(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("classify"),
        Reply("It is a bug, I am fairly sure."),
        Reply('{"label": "bug"}'),
        Reply('{"label": "bug", "confidence": 0.8}'),  # the operator's retry, asked afresh
    )
    handle = await start_run(client, worker, classify_only())
    paused = await wait_for_status(handle, lambda s: s.status == RunStatus.NEEDS_ATTENTION)

    [step] = paused.steps
    assert step.status == StepStatus.PAUSED
    assert step.error is not None
    assert "output_schema" in step.error
    assert "'confidence' is a required property" in step.error
    assert step.attempt == 1  # not retried: the model had its repair
    assert stub_llm.call_count(marker("classify")) == 2


async def test_a_router_routes_on_a_field_of_a_schema_d_output(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("classify"), Reply('```json\n{"label": "refund", "confidence": 0.7}\n```')
    )
    stub_llm.script(marker("refund"), Reply("refunded"))
    definition = {
        "agents": [agent()],
        "steps": [
            task("classify", output_schema=LABEL),
            {
                "id": "route",
                "type": "router",
                "after": ["classify"],
                "routes": [
                    {"name": "refund", "if": 'output("classify").label == "refund"'},
                    {"name": "sure", "if": 'output("classify").confidence > 0.9'},
                ],
                "default": "other",
                "targets": {"refund": ["refund"], "sure": ["sure"], "other": ["other"]},
            },
            task("refund", after=["route"]),
            task("sure", after=["route"]),
            task("other", after=["route"]),
        ],
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()

    statuses = {s.id: s.status for s in result.steps}
    assert statuses["refund"] == StepStatus.COMPLETED
    assert statuses["sure"] == statuses["other"] == StepStatus.NOT_TAKEN
    assert {s.id: s.branch for s in result.steps}["route"] == "refund"
    await assert_replays(handle)


async def test_an_invalid_schema_is_a_compile_error_at_its_loc(api: ApiStack) -> None:
    bad = {"type": "object", "properties": {"label": {"type": "strin"}}}
    spec = {
        "agents": [agent()],
        "steps": [
            task("ok", output_schema=LABEL),
            task("classify", output_schema=bad),
            {
                "id": "each",
                "type": "map",
                "after": ["classify"],
                "items": 'output("classify").label',
                "steps": [task("item", output_schema={"required": "label"})],
            },
        ],
    }
    response = await api.http.post("/workflows/validate", json={"spec": spec})
    assert response.status_code == 422, response.text
    errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert set(errors) == {
        ("steps", 1, "output_schema"),
        ("steps", 2, "steps", 0, "output_schema"),
    }
    assert errors[("steps", 1, "output_schema")].startswith(
        "not a valid JSON Schema at $.properties.label.type:"
    )
    assert "is not of type 'array'" in errors[("steps", 2, "steps", 0, "output_schema")]

    saved = await api.http.post("/workflows", json={"name": "bad-schema", "spec": spec})
    assert saved.status_code == 422
