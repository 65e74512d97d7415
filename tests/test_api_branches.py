"""Branches through the HTTP API on the real dev server: the seeded support-triage example
down each of its routes (the refund's gate approved and rejected), and a sub-workflow's
gate shown on its parent and decided in the inbox (issue 12)."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.seeds.workflows import SUPPORT_TRIAGE
from tests.api_stack import ApiStack, open_api_stack
from tests.conftest import STUB_MODEL
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM

# Each route's steps; the steps of the routes not chosen must end not_taken.
BRANCHES = {
    "refund": ["approve_refund", "issue_refund"],
    "bug": ["file_bug"],
    "other": ["answer_question"],
}
# What the stub answers each task of the example, by a phrase of its description.
ANSWERS = {
    "issue_refund": ("refund confirmation", "REFUND-ISSUED"),
    "file_bug": ("bug report for engineers", "BUG-FILED"),
    "answer_question": ("Answer the customer's question", "QUESTION-ANSWERED"),
}
REPLY = "Write the reply to the customer"


@pytest.fixture(scope="module")
async def api(
    temporal_env: Any, tmp_path_factory: pytest.TempPathFactory, stub_llm_server: StubLLM
) -> AsyncIterator[ApiStack]:
    """One stack for the module: every test starts its own runs on it."""
    data = tmp_path_factory.mktemp("branches")
    database_url = f"sqlite+aiosqlite:///{data / 'kasal.db'}"
    async with open_api_stack(temporal_env, data / "data", database_url, stub_llm_server.url) as s:
        yield s


@pytest.fixture(scope="module")
async def triage_id(api: ApiStack) -> str:
    """The seeded example, saved through the API with its agents on the stub model."""
    document = copy.deepcopy(SUPPORT_TRIAGE)
    for each in document["spec"]["agents"]:
        each["llm"] = STUB_MODEL
    response = await api.http.post("/workflows", json=document)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def script_triage(stub_llm: StubLLM, ticket: str, label: str) -> None:
    stub_llm.script(
        f"refund, bug or other: {ticket}", Reply(f"Final Answer: {json.dumps({'label': label})}")
    )
    for phrase, answer in ANSWERS.values():
        stub_llm.script(phrase, Reply(f"Final Answer: {answer}"))
    stub_llm.script(REPLY, Reply("Final Answer: Thanks for writing to us."))


async def start(api: ApiStack, workflow_id: str, inputs: dict[str, Any]) -> str:
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json={"inputs": inputs})
    assert response.status_code == 201, response.text
    return str(response.json()["run_id"])


async def run_in(api: ApiStack, run_id: str, status: str, timeout: float = 30) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return dict((await api.http.get(f"/runs/{run_id}")).json())

    run = await eventually(read, lambda r: r["status"] in (status, "failed"), timeout=timeout)
    assert run["status"] == status, run
    return run


async def waiting_in_inbox(api: ApiStack, run_id: str) -> dict[str, Any]:
    async def inbox() -> list[dict[str, Any]]:
        return list((await api.http.get("/approvals")).json()["items"])

    items = await eventually(inbox, lambda found: any(i["run_id"] == run_id for i in found))
    return next(i for i in items if i["run_id"] == run_id)


async def decide(api: ApiStack, run_id: str, step_id: str, decision: str) -> None:
    response = await api.http.post(
        f"/runs/{run_id}/steps/{step_id}/decision", json={"decision": decision}
    )
    assert response.status_code == 200, response.text


def statuses(run: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in run["steps"]}


def step(run: dict[str, Any], step_id: str) -> dict[str, Any]:
    return dict(next(s for s in run["steps"] if s["id"] == step_id))


@pytest.mark.parametrize("label", ["refund", "bug", "other"])
async def test_support_triage_takes_the_labelled_route_and_replies_once(
    api: ApiStack, triage_id: str, stub_llm: StubLLM, label: str
) -> None:
    ticket = f"TICKET-{label.upper()}: please help"
    script_triage(stub_llm, ticket, label)
    run_id = await start(api, triage_id, {"ticket": ticket})

    if label == "refund":
        waiting = await run_in(api, run_id, "waiting_for_approval")
        assert statuses(waiting)["approve_refund"] == "waiting"
        assert statuses(waiting)["issue_refund"] == statuses(waiting)["reply"] == "pending"
        item = await waiting_in_inbox(api, run_id)
        assert item["step_id"] == "approve_refund"
        assert item["message"].startswith("Issue a refund for this ticket?")
        await decide(api, run_id, "approve_refund", "approve")

    run = await run_in(api, run_id, "completed")
    chosen = {"approve_refund": "approved"} if label == "refund" else {}
    expected = {
        "classify": "completed",
        "route": "completed",
        **{s: "not_taken" for route, steps in BRANCHES.items() if route != label for s in steps},
        **{s: chosen.get(s, "completed") for s in BRANCHES[label]},
        "reply": "completed",
    }
    assert statuses(run) == expected
    assert step(run, "route")["branch"] == label
    assert json.loads(step(run, "classify")["output"]) == {"label": label}
    # The join ran once, and read the branch that ran.
    [reply] = stub_llm.calls(REPLY)
    taken_task = BRANCHES[label][-1]
    assert ANSWERS[taken_task][1] in reply.messages_text
    for route, steps in BRANCHES.items():
        if route != label:
            assert stub_llm.call_count(ANSWERS[steps[-1]][0]) == 0
    assert run["result"]["final_output"] == "Thanks for writing to us."


async def test_a_rejected_refund_ends_the_run_rejected(
    api: ApiStack, triage_id: str, stub_llm: StubLLM
) -> None:
    ticket = "TICKET-REJECTED: refund me twice"
    script_triage(stub_llm, ticket, "refund")
    run_id = await start(api, triage_id, {"ticket": ticket})
    await run_in(api, run_id, "waiting_for_approval")
    await decide(api, run_id, "approve_refund", "reject")

    run = await run_in(api, run_id, "rejected")
    found = statuses(run)
    assert (found["route"], step(run, "route")["branch"]) == ("completed", "refund")
    assert found["approve_refund"] == "rejected"
    assert found["file_bug"] == found["answer_question"] == "not_taken"
    # Nothing after the gate ran: a closed run ends the steps that never ran.
    assert found["issue_refund"] == found["reply"] == "cancelled"
    assert stub_llm.call_count(REPLY) == stub_llm.call_count(ANSWERS["issue_refund"][0]) == 0


async def test_a_sub_workflows_gate_shows_on_its_parent_and_is_decided_in_the_inbox(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("prepare"), Reply("Final Answer: prepared for the child"))
    stub_llm.script(marker("wrap_up"), Reply("Final Answer: wrapped up"))
    child = {
        "inputs": [{"name": "subject"}],
        "agents": [agent()],
        "steps": [
            task("prepare", description="Do step STEP-PREPARE about {subject}."),
            {"id": "check", "type": "approval", "after": ["prepare"], "message": "Go on?"},
        ],
    }
    saved = await api.http.post("/workflows", json={"name": "gated-child", "spec": child})
    assert saved.status_code == 201, saved.text
    parent = {
        "inputs": [{"name": "topic"}],
        "agents": [agent()],
        "steps": [
            {
                "id": "call",
                "type": "workflow",
                "workflow": "gated-child",
                "inputs": {"subject": "the {topic}"},
            },
            task("wrap_up", after=["call"]),
        ],
    }
    saved = await api.http.post("/workflows", json={"name": "calls-a-child", "spec": parent})
    assert saved.status_code == 201, saved.text
    run_id = await start(api, saved.json()["id"], {"topic": "tides"})

    waiting = await run_in(api, run_id, "waiting_for_approval")
    call = step(waiting, "call")
    assert call["child_status"] == "waiting_for_approval"
    [child_id] = call["child_run_ids"]
    item = await waiting_in_inbox(api, child_id)
    assert (item["step_id"], item["message"]) == ("check", "Go on?")
    assert "the tides" in stub_llm.calls(marker("prepare"))[0].messages_text
    await decide(api, child_id, "check", "approve")

    run = await run_in(api, run_id, "completed")
    assert statuses(run) == {"call": "completed", "wrap_up": "completed"}
    assert step(run, "call")["child_status"] is None
    assert (await run_in(api, child_id, "completed"))["steps"][1]["status"] == "approved"
