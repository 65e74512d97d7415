"""Approvers hear of a waiting gate (a Slack-compatible webhook and email), are reminded,
and the gate escalates; KasalApprovers lets the inbox find a user's gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api_stack import ADMIN_EMAIL, ApiStack, issue_token
from tests.helpers import agent, assert_replays, eventually, task
from tests.smtp_sink import Received, SmtpSink
from tests.smtp_sink import smtp_sink as smtp_sink  # the fixture
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.webhook_receiver import WebhookReceiver
from workflows.roles import Role
from workflows.search_attributes import KASAL_APPROVERS


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def gated(**gate: Any) -> dict[str, Any]:
    return {
        "agents": [agent()],
        "steps": [
            task("draft"),
            {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?", **gate},
        ],
    }


async def with_smtp(api: ApiStack, sink: SmtpSink) -> None:
    """The worker, restarted with SMTP settings that reach the sink."""
    api.settings = api.settings.model_copy(
        update={
            "KASAL_SMTP_HOST": "127.0.0.1",
            "KASAL_SMTP_PORT": sink.port,
            "KASAL_SMTP_STARTTLS": False,
            "KASAL_SMTP_FROM": "kasal@kasal.test",
        }
    )
    await api.stop_worker()
    await api.start_worker()


async def approvers_attribute(api: ApiStack, run_id: str) -> list[str] | None:
    described = await api.env.client.get_workflow_handle(run_id).describe()
    return described.typed_search_attributes.get(KASAL_APPROVERS)


async def test_approvers_hear_of_the_gate_are_reminded_and_it_escalates(
    api: ApiStack, smtp_sink: SmtpSink, webhook_receiver: WebhookReceiver
) -> None:
    await with_smtp(api, smtp_sink)
    await issue_token(api.settings, "ed@kasal.test", Role.EDITOR)
    boss = await issue_token(api.settings, "boss@kasal.test", Role.VIEWER)
    ann = await issue_token(api.settings, "ann@kasal.test", Role.VIEWER)
    ops = await issue_token(api.settings, "ops@kasal.test", Role.OPERATOR)
    spec = gated(
        approvers=["ann@kasal.test", "editor"],
        remind_after_seconds=1,
        escalate_after_seconds=2.5,
        escalate_to=["boss@kasal.test"],
    )
    spec["notify"] = {"slack_webhook_url": webhook_receiver.url}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    assert await eventually(lambda: approvers_attribute(api, run_id), lambda v: v is not None) == [
        "ann@kasal.test",
        "editor",
    ]

    # The inbox: ann by her email; an operator sees the gate, but it is not theirs.
    async with api.client_as(ann) as as_ann, api.client_as(ops) as as_ops:
        mine = (await as_ann.get("/approvals", params={"mine": "true"})).json()["items"]
        assert [(i["run_id"], i["step_id"]) for i in mine] == [(run_id, "review")]
        assert (await as_ops.get("/approvals", params={"mine": "true"})).json()["items"] == []
        assert len((await as_ops.get("/approvals")).json()["items"]) == 1

    texts = await eventually(lambda: _texts(webhook_receiver), lambda t: len(t) == 3, timeout=20)
    link = f"{api.settings.app_url}/runs/{run_id}"
    waiting, reminder, escalation = texts
    assert waiting.startswith("Approval needed in *brief*: gate `review`")
    assert reminder.startswith("Reminder: gate `review` in *brief*")
    assert escalation.startswith("Escalated to boss@kasal.test: gate `review` in *brief*")
    for text in texts:
        assert "> Publish?" in text and link in text
    assert "Approvers: ann@kasal.test, editor\n" in waiting

    mails = await eventually(lambda: _mails(smtp_sink), lambda m: len(m) == 3, timeout=20)
    by_subject = {m.message["Subject"]: m for m in mails}
    # The role "editor" is the workspace's editors and admins.
    everyone = sorted(["ann@kasal.test", "ed@kasal.test", ADMIN_EMAIL])
    assert sorted(by_subject["Approval needed: brief · review"].recipients) == everyone
    assert sorted(by_subject["Reminder: approval needed: brief · review"].recipients) == everyone
    escalated = by_subject["Escalated: approval needed: brief · review"]
    assert escalated.recipients == ["boss@kasal.test"]
    assert escalated.sender == "kasal@kasal.test"
    assert link in escalated.message.get_content()

    # Escalated to, boss (a viewer) may decide now, and finds the gate in the inbox.
    assert await eventually(
        lambda: approvers_attribute(api, run_id), lambda v: v is not None and len(v) == 3
    ) == ["ann@kasal.test", "boss@kasal.test", "editor"]
    async with api.client_as(boss) as as_boss:
        mine = (await as_boss.get("/approvals", params={"mine": "true"})).json()["items"]
        assert [i["run_id"] for i in mine] == [run_id]
        decided = await as_boss.post(
            f"/runs/{run_id}/steps/review/decision", json={"decision": "approve"}
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["log"][-1] == "escalated to boss@kasal.test"
    await wait_for_run(api, run_id, "completed")
    assert await approvers_attribute(api, run_id) is None
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_a_gate_without_approvers_is_in_every_operators_inbox(api: ApiStack) -> None:
    viewer = await issue_token(api.settings, "vi@kasal.test", Role.VIEWER)
    ops = await issue_token(api.settings, "op@kasal.test", Role.OPERATOR)
    run_id = (await start(api, await create_workflow(api, gated())))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    assert await eventually(lambda: approvers_attribute(api, run_id), lambda v: v is not None) == [
        "operator"
    ]
    async with api.client_as(viewer) as as_viewer, api.client_as(ops) as as_ops:
        assert (await as_viewer.get("/approvals", params={"mine": "true"})).json()["items"] == []
        mine = (await as_ops.get("/approvals", params={"mine": "true"})).json()["items"]
        assert [i["run_id"] for i in mine] == [run_id]
    await api.env.client.get_workflow_handle(run_id).terminate("test over")


async def test_a_slack_webhook_the_egress_policy_refuses_is_a_definition_error(
    api: ApiStack,
) -> None:
    spec = gated()
    spec["notify"] = {"slack_webhook_url": "http://169.254.169.254/hook"}
    response = await api.http.post("/workflows", json={"name": "brief", "spec": spec})
    assert response.status_code == 422, response.text
    assert [item["loc"] for item in response.json()["detail"]] == [["notify", "slack_webhook_url"]]


async def _texts(receiver: WebhookReceiver) -> list[str]:
    return [str(event["text"]) for event in receiver.events]


async def _mails(sink: SmtpSink) -> list[Received]:
    return list(sink.messages)
