"""Two teams on one Kasal see nothing of each other's, and a gate's approvers decide it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api_stack import ApiStack, issue_token
from tests.conftest import STUB_API_KEY
from tests.helpers import agent, eventually, task
from tests.stub_llm import StubLLM
from workflows.roles import Role


def gate(**fields: Any) -> dict[str, Any]:
    step = {"id": "review", "type": "approval", "after": [], "message": "Ship it?", **fields}
    return {"steps": [step]}


async def _run_waiting(
    client: httpx.AsyncClient, spec: dict[str, Any], name: str
) -> tuple[str, str]:
    created = await client.post("/workflows", json={"name": name, "spec": spec})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    started = await client.post(f"/workflows/{workflow_id}/runs", json={})
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]

    async def read() -> dict[str, Any]:
        return dict((await client.get(f"/runs/{run_id}")).json())

    await eventually(read, lambda run: run.get("status") == "waiting_for_approval", timeout=30)
    return workflow_id, run_id


async def test_two_workspaces_see_nothing_of_each_other(api: ApiStack) -> None:
    alice_token = await issue_token(api.settings, "alice@team-a.test", Role.VIEWER)
    bob_token = await issue_token(api.settings, "bob@team-b.test", Role.VIEWER)
    async with api.client_as(alice_token) as alice_default:
        alice_personal = next(
            w["id"] for w in (await alice_default.get("/me")).json()["workspaces"] if w["personal"]
        )
    async with api.client_as(bob_token) as bob_default:
        bob_personal = next(
            w["id"] for w in (await bob_default.get("/me")).json()["workspaces"] if w["personal"]
        )
    alice = api.client_as(alice_token, workspace=alice_personal)
    bob = api.client_as(bob_token, workspace=bob_personal)
    async with alice, bob:
        workflow_id, run_id = await _run_waiting(alice, gate(), "alice's")
        assert [r["run_id"] for r in (await alice.get("/approvals")).json()["items"]] == [run_id]

        for path in (
            f"/workflows/{workflow_id}",
            f"/workflows/{workflow_id}/versions",
            f"/runs/{run_id}",
            f"/runs/{run_id}/events",
            f"/runs/{run_id}/history",
            f"/runs/{run_id}/steps/review/transcript",
        ):
            assert (await bob.get(path)).status_code == 404, path
        for path, body in (
            (f"/runs/{run_id}/steps/review/decision", {"decision": "approve"}),
            (f"/runs/{run_id}/cancel", None),
            (f"/runs/{run_id}/fork", {"from_step": "review"}),
            (f"/workflows/{workflow_id}/runs", {}),
        ):
            assert (await bob.post(path, json=body)).status_code == 404, path
        assert (await bob.get("/workflows")).json()["items"] == []
        assert (await bob.get("/runs")).json()["items"] == []
        assert (await bob.get("/approvals")).json()["items"] == []
        # Nor does the shared workspace see into a personal one.
        assert run_id not in [r["run_id"] for r in (await api.http.get("/runs")).json()["items"]]
        assert (await api.http.get(f"/runs/{run_id}")).status_code == 404
        # Naming Alice's workspace does not let Bob in: it does not exist for him.
        peek = await bob.get("/runs", headers={"X-Kasal-Workspace": alice_personal})
        assert peek.status_code == 404
        assert (await alice.post(f"/runs/{run_id}/cancel")).status_code == 202


async def test_only_a_gates_approvers_decide_it_under_their_own_name(api: ApiStack) -> None:
    ann = await issue_token(api.settings, "ann@kasal.test", Role.VIEWER)
    ops = await issue_token(api.settings, "ops@kasal.test", Role.OPERATOR)
    spec = gate(approvers=["ann@kasal.test"])
    _, run_id = await _run_waiting(api.http, spec, "named approver")
    path = f"/runs/{run_id}/steps/review/decision"
    async with api.client_as(ops) as operator, api.client_as(ann) as approver:
        refused = await operator.post(path, json={"decision": "approve", "actor": "ann@kasal.test"})
        assert refused.status_code == 403, refused.text
        step = next(s for s in (await operator.get(f"/runs/{run_id}")).json()["steps"])
        assert step["status"] == "waiting" and step["approvers"] == ["ann@kasal.test"]
        decided = await approver.post(path, json={"decision": "approve", "actor": "someone"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["decisions"][0]["actor"] == "ann@kasal.test"


async def test_a_role_as_approver_admits_that_role_and_above(api: ApiStack) -> None:
    ops = await issue_token(api.settings, "ops2@kasal.test", Role.OPERATOR)
    editor = await issue_token(api.settings, "ed@kasal.test", Role.EDITOR)
    viewer = await issue_token(api.settings, "vi@kasal.test", Role.VIEWER)
    _, by_role = await _run_waiting(api.http, gate(approvers=["editor"]), "by role")
    _, open_gate = await _run_waiting(api.http, gate(), "open gate")
    async with (
        api.client_as(ops) as operator,
        api.client_as(editor) as editor_client,
        api.client_as(viewer) as viewer_client,
    ):
        decide = {"decision": "reject", "comment": "not yet"}
        path = f"/runs/{by_role}/steps/review/decision"
        assert (await operator.post(path, json=decide)).status_code == 403
        assert (await editor_client.post(path, json=decide)).status_code == 200
        # A gate that names no approvers: operators and above, never viewers.
        path = f"/runs/{open_gate}/steps/review/decision"
        assert (await viewer_client.post(path, json=decide)).status_code == 403
        answer = await operator.post(path, json=decide)
        assert answer.status_code == 200
        assert answer.json()["decisions"][0]["actor"] == "ops2@kasal.test"


async def test_a_run_uses_the_model_configs_of_its_own_workspace(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """The worker resolves a step's model config in the run's workspace: a name only
    Alice's workspace has works there, and does not exist for the shared one."""
    token = await issue_token(api.settings, "carol@team-c.test", Role.VIEWER)
    async with api.client_as(token) as carol_default:
        personal = next(
            w["id"] for w in (await carol_default.get("/me")).json()["workspaces"] if w["personal"]
        )
    async with api.client_as(token, workspace=personal) as carol:
        config = {"name": "carols", "model": "openai/stub-model", "api_base": stub_llm.url}
        assert (
            await carol.post("/models", json={**config, "api_key": STUB_API_KEY})
        ).status_code == 201
        assert (await api.http.get("/models/carols")).status_code == 404
        spec = {"agents": [agent(llm="carols")], "steps": [task("only")]}
        created = await carol.post("/workflows", json={"name": "carol's", "spec": spec})
        assert created.status_code == 201, created.text
        started = await carol.post(f"/workflows/{created.json()['id']}/runs", json={})
        run_id = started.json()["run_id"]

        async def read() -> dict[str, Any]:
            return dict((await carol.get(f"/runs/{run_id}")).json())

        run = await eventually(read, lambda r: r.get("status") not in ("running", None), timeout=60)
        assert run["status"] == "completed", run
        refused = await api.http.post("/workflows", json={"name": "borrowing", "spec": spec})
        assert refused.status_code == 422  # the shared workspace has no model "carols"
