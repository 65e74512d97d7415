"""Schedules over HTTP, on the Temporal dev server: a schedule starts ordinary runs of the
version that is latest when it fires, its overlap policy holds for the runs themselves,
and pause, trigger and backfill work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow

from tests.api_stack import ADMIN_EMAIL, ApiStack, issue_token
from tests.helpers import agent, assert_replays, eventually, task
from workflows.roles import Role
from workflows.search_attributes import KASAL_SCHEDULE_ID, KASAL_WORKSPACE

# Every test here is about Temporal; the database only holds the definitions.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Far from any test's clock: the schedule fires only when told to.
NEVER_BY_ITSELF = "0 0 29 2 1"

GATED: dict[str, Any] = {
    "inputs": [{"name": "topic"}],
    "agents": [agent()],
    "steps": [
        {"id": "go", "type": "approval", "after": [], "message": "Start on {topic}?"},
        task("write", after=["go"], description="STEP-WRITE: write on {topic}."),
    ],
}
QUICK: dict[str, Any] = {"agents": [agent()], "steps": [task("write")]}


async def create_workflow(api: ApiStack, name: str, spec: dict[str, Any]) -> str:
    response = await api.http.post("/workflows", json={"name": name, "spec": spec})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def create_schedule(api: ApiStack, workflow_id: str, **body: Any) -> dict[str, Any]:
    response = await api.http.post(f"/workflows/{workflow_id}/schedules", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def read(api: ApiStack, schedule_id: str) -> dict[str, Any]:
    response = await api.http.get(f"/schedules/{schedule_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def runs_of(client: Client, schedule_id: str) -> list[str]:
    """The runs Temporal finds by KasalScheduleId (the launchers do not carry it)."""
    query = f"{KASAL_SCHEDULE_ID.name} = '{schedule_id}' AND WorkflowType = 'AgentWorkflowV2'"
    return [execution.id async for execution in client.list_workflows(query)]


async def test_a_latest_schedule_runs_the_newest_version_and_skips_while_its_run_is_open(
    api: ApiStack,
) -> None:
    workflow_id = await create_workflow(api, "gated", GATED)
    created = await create_schedule(
        api, workflow_id, cron=NEVER_BY_ITSELF, inputs={"topic": "tides"}, overlap="skip"
    )
    assert created["version"] == "latest"
    assert created["workflow_name"] == "gated"
    assert created["cron"] == NEVER_BY_ITSELF and created["interval"] is None
    assert created["paused"] is False and created["recent_actions"] == []
    assert len(created["next_action_times"]) >= 1
    schedule_id = created["id"]

    # A version saved after the schedule: "latest" compiles it when the schedule fires.
    v2 = {**GATED, "steps": [GATED["steps"][0], task("write", after=["go"])]}
    saved = await api.http.put(f"/workflows/{workflow_id}", json={"spec": v2})
    assert saved.status_code == 200, saved.text
    assert (await api.http.post(f"/schedules/{schedule_id}/trigger")).status_code == 202

    fired = await eventually(lambda: read(api, schedule_id), lambda s: s["recent_actions"])
    run_id = fired["recent_actions"][0]["run_id"]
    run = await eventually(
        lambda: api.http.get(f"/runs/{run_id}"),
        lambda r: r.status_code == 200 and r.json()["status"] == "waiting_for_approval",
    )
    assert run.json()["version"] == 2
    assert run.json()["workflow_id"] == workflow_id
    # An ordinary run: listed, findable by its schedule, in the schedule's workspace.
    client = api.env.client
    assert await eventually(lambda: runs_of(client, schedule_id), lambda ids: ids == [run_id])
    listed = await api.http.get("/runs", params={"workflow_id": workflow_id})
    assert [r["run_id"] for r in listed.json()["items"]] == [run_id]
    described = await client.get_workflow_handle(run_id).describe()
    assert described.typed_search_attributes.get(KASAL_WORKSPACE) == "default"
    assert (await read(api, schedule_id))["running"] == [run_id]

    # Fired again while the run waits at its gate: skipped, because its launcher waits too.
    schedule = client.get_schedule_handle(schedule_id)
    assert (await api.http.post(f"/schedules/{schedule_id}/trigger")).status_code == 202
    await eventually(schedule.describe, lambda d: d.info.num_actions_skipped_overlap == 1)
    assert await runs_of(client, schedule_id) == [run_id]
    assert len((await read(api, schedule_id))["recent_actions"]) == 1

    decided = await api.http.post(f"/runs/{run_id}/steps/go/decision", json={"decision": "approve"})
    assert decided.status_code == 200, decided.text
    await eventually(
        lambda: api.http.get(f"/runs/{run_id}"), lambda r: r.json()["status"] == "completed"
    )
    done = await eventually(lambda: read(api, schedule_id), lambda s: s["running"] == [])
    assert [a["run_id"] for a in done["recent_actions"]] == [run_id]

    [result] = (await schedule.describe()).info.recent_actions
    assert isinstance(result.action, ScheduleActionExecutionStartWorkflow)
    await assert_replays(client.get_workflow_handle(result.action.workflow_id))


async def test_an_interval_schedule_starts_runs_until_paused_and_again_once_unpaused(
    api: ApiStack,
) -> None:
    workflow_id = await create_workflow(api, "quick", QUICK)
    created = await create_schedule(api, workflow_id, interval=1, version=1)
    assert created["interval"] == 1 and created["cron"] is None and created["version"] == 1
    schedule_id = created["id"]
    await eventually(lambda: read(api, schedule_id), lambda s: s["num_actions"] >= 2)

    paused = await api.http.post(f"/schedules/{schedule_id}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert paused.json()["note"] == f"paused by {ADMIN_EMAIL}"
    # What fired in the instant of pausing settles; then nothing more fires.
    await asyncio.sleep(1.5)
    before = (await read(api, schedule_id))["num_actions"]
    with pytest.raises(AssertionError):
        await eventually(
            lambda: read(api, schedule_id), lambda s: s["num_actions"] > before, timeout=3
        )

    unpaused = await api.http.post(f"/schedules/{schedule_id}/unpause")
    assert unpaused.json()["paused"] is False
    await eventually(lambda: read(api, schedule_id), lambda s: s["num_actions"] > before)
    listed = (await api.http.get("/schedules")).json()["items"]
    assert schedule_id in [s["id"] for s in listed]

    assert (await api.http.delete(f"/schedules/{schedule_id}")).status_code == 204
    assert (await api.http.get(f"/schedules/{schedule_id}")).status_code == 404


async def test_backfill_starts_a_run_for_each_time_in_the_range(api: ApiStack) -> None:
    workflow_id = await create_workflow(api, "hourly", QUICK)
    created = await create_schedule(api, workflow_id, cron="0 * * * *", paused=True)
    schedule_id = created["id"]
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start, end = hour - timedelta(hours=3, minutes=30), hour - timedelta(minutes=30)
    span = {"start_at": start.isoformat(), "end_at": end.isoformat()}

    backwards = {"start_at": span["end_at"], "end_at": span["start_at"]}
    refused = await api.http.post(f"/schedules/{schedule_id}/backfill", json=backwards)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "end_at"]

    body = {**span, "overlap": "allow_all"}
    accepted = await api.http.post(f"/schedules/{schedule_id}/backfill", json=body)
    assert accepted.status_code == 202, accepted.text
    # Three o'clocks in the range, three runs, though the schedule is paused.
    client = api.env.client
    ids = await eventually(lambda: runs_of(client, schedule_id), lambda i: len(i) == 3, 30)
    scheduled = (await read(api, schedule_id))["recent_actions"]
    assert sorted(a["run_id"] for a in scheduled) == sorted(ids)
    assert sorted(datetime.fromisoformat(a["scheduled_at"]) for a in scheduled) == [
        hour - timedelta(hours=h) for h in (3, 2, 1)
    ]
    # The runs list filters on the schedule, and nothing but an id reaches the query.
    listed = await api.http.get("/runs", params={"schedule_id": schedule_id})
    assert sorted(r["run_id"] for r in listed.json()["items"]) == sorted(ids)
    quoted = await api.http.get("/runs", params={"schedule_id": "x' OR 'a'='a"})
    assert quoted.status_code == 422
    assert quoted.json()["detail"][0]["loc"] == ["query", "schedule_id"]

    # Deleting the workflow deletes its schedules: none starts a run of it again.
    assert (await api.http.delete(f"/workflows/{workflow_id}")).status_code == 204
    assert (await api.http.get(f"/schedules/{schedule_id}")).status_code == 404


async def test_a_schedule_is_checked_when_saved_and_belongs_to_its_workspace(
    api: ApiStack,
) -> None:
    workflow_id = await create_workflow(api, "gated", GATED)
    path = f"/workflows/{workflow_id}/schedules"
    ok = {"cron": NEVER_BY_ITSELF, "inputs": {"topic": "x"}}
    cases: list[tuple[dict[str, Any], list[str | int]]] = [
        ({"inputs": {"topic": "x"}}, ["body", "cron"]),
        ({**ok, "interval": 60}, ["body", "cron"]),
        ({**ok, "cron": "not a cron"}, ["body", "cron"]),
        ({**ok, "time_zone": "Mars/Olympus"}, ["body", "time_zone"]),
        ({**ok, "overlap": "sometimes"}, ["body", "overlap"]),
        ({**ok, "catchup_window": 1}, ["body", "catchup_window"]),
        ({"interval": 0}, ["body", "interval"]),
    ]
    for body, loc in cases:
        response = await api.http.post(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, body
    missing_input = await api.http.post(path, json={"cron": NEVER_BY_ITSELF})
    assert missing_input.status_code == 422
    no_version = await api.http.post(path, json={**ok, "version": 9})
    assert no_version.status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await api.http.post(f"/workflows/{unknown}/schedules", json=ok)).status_code == 404

    created = await create_schedule(
        api, workflow_id, **ok, time_zone="Europe/Paris", catchup_window=60
    )
    schedule_id = created["id"]
    assert (created["time_zone"], created["catchup_window"]) == ("Europe/Paris", 60)
    replaced = await api.http.put(
        f"/schedules/{schedule_id}",
        json={"interval": 3600, "inputs": {"topic": "y"}, "overlap": "buffer_one"},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["interval"] == 3600 and replaced.json()["cron"] is None
    assert replaced.json()["overlap"] == "buffer_one"
    assert replaced.json()["inputs"] == {"topic": "y"}
    bad_update = await api.http.put(f"/schedules/{schedule_id}", json={"interval": 60})
    assert bad_update.status_code == 422  # the required input is missing

    # Another workspace sees none of it; Kasal's own retention schedule is no one's.
    token = await issue_token(api.settings, "ann@kasal.test", Role.VIEWER)
    async with api.client_as(token) as ann:
        personal = next(
            w["id"] for w in (await ann.get("/me")).json()["workspaces"] if w["personal"]
        )
    async with api.client_as(token, workspace=personal) as elsewhere:
        assert (await elsewhere.get(f"/schedules/{schedule_id}")).status_code == 404
        assert (await elsewhere.post(f"/schedules/{schedule_id}/trigger")).status_code == 404
        assert (await elsewhere.get("/schedules")).json()["items"] == []
    assert (await api.http.get("/schedules/kasal-blob-retention")).status_code == 404
    assert (await api.http.delete(f"/schedules/{schedule_id}")).status_code == 204


async def test_cancel_other_cancels_the_open_run_before_starting_the_next(api: ApiStack) -> None:
    workflow_id = await create_workflow(api, "gated", GATED)
    created = await create_schedule(
        api, workflow_id, cron=NEVER_BY_ITSELF, inputs={"topic": "x"}, overlap="cancel_other"
    )
    schedule_id = created["id"]
    assert (await api.http.post(f"/schedules/{schedule_id}/trigger")).status_code == 202
    first = (await eventually(lambda: read(api, schedule_id), lambda s: s["running"]))["running"][0]
    await eventually(
        lambda: api.http.get(f"/runs/{first}"),
        lambda r: r.status_code == 200 and r.json()["status"] == "waiting_for_approval",
    )

    assert (await api.http.post(f"/schedules/{schedule_id}/trigger")).status_code == 202
    # The launcher cancelled by the schedule cancels its run, which closes as cancelled.
    await eventually(
        lambda: api.http.get(f"/runs/{first}"), lambda r: r.json()["status"] == "cancelled"
    )
    second = await eventually(
        lambda: read(api, schedule_id), lambda s: s["running"] and s["running"] != [first]
    )
    assert len(second["recent_actions"]) == 2
