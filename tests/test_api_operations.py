"""Operating runs over HTTP: decisions, retrying or skipping a paused step, cancelling."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from kasal.binaries import temporal_cli
from tests.api_stack import ADMIN_EMAIL, ApiStack
from tests.helpers import agent, assert_replays, city_map, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run

GATED: dict[str, Any] = {
    "agents": [agent()],
    "steps": [
        task("draft"),
        {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"},
        task("publish", after=["review"]),
    ],
}


async def step(api: ApiStack, run_id: str, step_id: str) -> dict[str, Any]:
    run = (await api.http.get(f"/runs/{run_id}")).json()
    return dict(next(s for s in run["steps"] if s["id"] == step_id))


async def test_approve_through_the_api_and_refuse_a_second_decision(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("publish"), Reply("published", delay=1.5))  # keeps the run open
    run_id = (await start(api, await create_workflow(api, GATED)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    path = f"/runs/{run_id}/steps/review/decision"

    approved = await api.http.post(
        path, json={"decision": "approve", "comment": "ok", "actor": "ana"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    # The actor is the principal, whatever the body claims.
    assert approved.json()["decisions"][0]["actor"] == ADMIN_EMAIL
    again = await api.http.post(path, json={"decision": "reject"})
    assert again.status_code == 409
    unknown = await api.http.post(
        f"/runs/{run_id}/steps/ghost/decision", json={"decision": "approve"}
    )
    assert unknown.status_code == 404
    bad = await api.http.post(path, json={"decision": "maybe"})
    assert bad.status_code == 422
    await wait_for_run(api, run_id, "completed")
    closed = await api.http.post(path, json={"decision": "approve"})
    assert closed.status_code == 409


async def test_fix_the_model_config_then_retry_completes_the_run(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.echo_key_401())
    run_id = (
        await start(api, await create_workflow(api, {"agents": [agent()], "steps": [task("a")]}))
    )["run_id"]
    await wait_for_run(api, run_id, "needs_attention")
    paused = await step(api, run_id, "a")
    assert paused["status"] == "paused"
    assert stub_llm.call_count(marker("a")) == 1
    # KasalStatus makes the run findable from a terminal too.
    listed = await eventually(
        lambda: temporal_cli_list(api, "KasalStatus='needs_attention'"),
        lambda ids: run_id in ids,
    )
    assert run_id in listed

    # The operator fixes the key.
    stub_llm.reset()
    stub_llm.script(marker("a"), Reply("works now"))
    assert (await api.http.put("/models/stub", json={"api_key": "sk-fixed-key"})).status_code == 200
    retried = await api.http.post(f"/runs/{run_id}/steps/a/retry", json={"actor": "ops"})
    assert retried.status_code == 200, retried.text
    run = await wait_for_run(api, run_id, "completed")
    assert run["steps"][0]["output"] == "works now"
    assert run["steps"][0]["attempt"] == 2
    # The retry resolved the config afresh: it sent the new key.
    [retry_call] = stub_llm.calls(marker("a"))
    assert retry_call.authorization == "Bearer sk-fixed-key"


async def test_skip_continues_with_the_given_output(api: ApiStack, stub_llm: StubLLM) -> None:
    stub_llm.script(marker("a"), Reply.error(400, "cannot"))
    stub_llm.script(marker("b"), Reply("b done"))
    spec = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")
    not_paused = await api.http.post(f"/runs/{run_id}/steps/b/skip", json={"output": "x"})
    assert not_paused.status_code == 409

    skipped = await api.http.post(
        f"/runs/{run_id}/steps/a/skip", json={"output": "hand-written notes", "actor": "ops"}
    )
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["status"] == "skipped"
    run = await wait_for_run(api, run_id, "completed")
    assert run["steps"][0]["output"] == "hand-written notes"
    assert "hand-written notes" in stub_llm.calls(marker("b"))[0].messages_text
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_cancel_stops_steps_in_flight_and_keeps_finished_outputs(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("a finished"))
    stub_llm.script(marker("b"), Reply.timeout())
    spec = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await eventually(lambda: _count(stub_llm, marker("b")), lambda n: n == 1)

    response = await api.http.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 202
    run = await wait_for_run(api, run_id, "cancelled")
    assert [(s["id"], s["status"]) for s in run["steps"]] == [
        ("a", "completed"),
        ("b", "cancelled"),
    ]
    assert run["steps"][0]["output"] == "a finished"
    # The activity heard the cancel through its heartbeat and closed its LLM request.
    await eventually(
        lambda: _first_call(stub_llm, marker("b")), lambda call: call.disconnected, timeout=20
    )
    assert (await api.http.post(f"/runs/{run_id}/cancel")).status_code == 409
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_a_decision_with_no_worker_is_503_not_a_hang(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    run_id = (await start(api, await create_workflow(api, GATED)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    await api.stop_worker()
    response = await api.http.post(
        f"/runs/{run_id}/steps/review/decision", json={"decision": "approve"}
    )
    assert response.status_code == 503
    assert "no worker" in response.json()["detail"]
    await api.env.client.get_workflow_handle(run_id).terminate("test over")


async def temporal_cli_list(api: ApiStack, query: str) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        str(temporal_cli()),
        "workflow",
        "list",
        "--address",
        api.settings.temporal_address,
        "--query",
        query,
        "--output",
        "json",
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    return [row["execution"]["workflowId"] for row in json.loads(output or b"[]")]


async def _count(stub: StubLLM, match: str) -> int:
    return stub.call_count(match)


async def _first_call(stub: StubLLM, match: str) -> Any:
    return stub.calls(match)[0]


async def test_two_tabs_retrying_one_paused_step_get_one_200_and_one_409(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(401), Reply("fixed", delay=1.0))
    definition = {"agents": [agent()], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, definition)))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")
    path = f"/runs/{run_id}/steps/a"
    not_an_execution = await api.http.post(f"{path}/retry", json={"execution": 0})
    assert not_an_execution.status_code == 422
    assert not_an_execution.json()["detail"][0]["loc"] == ["body", "execution"]
    # Each names the execution its page showed paused, as the UI does: the one that wins
    # starts the next, and the others are refused at once.
    answers = await asyncio.gather(
        api.http.post(f"{path}/retry", json={"actor": "tab one", "execution": 1}),
        api.http.post(f"{path}/skip", json={"output": "by hand", "execution": 1}),
        api.http.post(f"{path}/retry", json={"actor": "tab three", "execution": 1}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409], [a.text for a in answers]
    await wait_for_run(api, run_id, "completed")
    assert stub_llm.call_count(marker("a")) <= 2  # one first call, at most one retry


async def test_a_retried_call_with_the_same_idempotency_key_acts_once(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(401), Reply("fixed", delay=1.0))
    definition = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    run_id = (await start(api, await create_workflow(api, definition)))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")
    headers = {"Idempotency-Key": "retry-7f3"}
    path = f"/runs/{run_id}/steps/a/retry"
    first = await api.http.post(path, json={"actor": "ops"}, headers=headers)
    again = await api.http.post(path, json={"actor": "ops"}, headers=headers)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    await wait_for_run(api, run_id, "completed")
    assert stub_llm.call_count(marker("a")) == 2
    # A new key is a new request, and the step is not paused now.
    other = await api.http.post(path, json={}, headers={"Idempotency-Key": "retry-8e1"})
    assert other.status_code == 409


async def test_two_operators_retrying_a_paused_map_item_at_once_run_it_once_more(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """A map's item pauses in the map's child run; two operators retry it there at once:
    one 200, one 409, and the item's model is asked once more, not twice."""
    stub_llm.script("CITY=Lima", Reply.error(401), Reply("summary of Lima", delay=0.5))
    stub_llm.script("CITY=", Reply("fine"))
    workflow_id = await create_workflow(api, city_map())
    run_id = (await start(api, workflow_id, inputs={"cities": '["Oslo", "Lima"]'}))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")
    [child_id] = (await step(api, run_id, "each"))["child_run_ids"]
    await eventually(
        lambda: step(api, child_id, "summarize-1"), lambda item: item["status"] == "paused"
    )

    path = f"/runs/{child_id}/steps/summarize-1/retry"
    answers = await asyncio.gather(
        *(api.http.post(path, json={"actor": who}) for who in ("ops one", "ops two"))
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    run = await wait_for_run(api, run_id, "completed")
    each = next(s for s in run["steps"] if s["id"] == "each")
    assert json.loads(each["output"]) == ["fine", "summary of Lima"]
    assert stub_llm.call_count("CITY=Lima") == 2
