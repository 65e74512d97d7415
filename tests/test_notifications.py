"""Webhooks tell people when a run waits for them or closes, and never hold the run up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api_stack import ApiStack
from tests.conftest import TEMPORAL_UI_URL
from tests.helpers import agent, assert_replays, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def gated(webhook_url: str) -> dict[str, object]:
    return {
        "agents": [agent()],
        "steps": [
            task("draft"),
            {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?"},
        ],
        "notify": {"webhook_url": webhook_url},
    }


async def test_the_webhook_hears_of_a_waiting_gate_and_of_the_close(
    api: ApiStack, stub_llm: StubLLM, webhook_receiver: WebhookReceiver
) -> None:
    workflow_id = await create_workflow(api, gated(webhook_receiver.url))
    run_id = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    [waiting] = await eventually(lambda: _events(webhook_receiver), lambda e: len(e) == 1)
    assert waiting["event"] == "waiting_for_approval"
    assert waiting["run_id"] == run_id
    assert waiting["step_id"] == "review"
    assert waiting["status"] == "waiting_for_approval"
    assert waiting["workflow"] == {"id": workflow_id, "name": "brief", "version": 1}
    assert waiting["web_url"].startswith(
        f"{TEMPORAL_UI_URL}/namespaces/default/workflows/{run_id}/"
    )
    assert waiting["app_url"] == f"{api.settings.app_url}/#/runs/{run_id}"

    await api.http.post(f"/runs/{run_id}/steps/review/decision", json={"decision": "reject"})
    await wait_for_run(api, run_id, "rejected")
    events = await eventually(lambda: _events(webhook_receiver), lambda e: len(e) == 2)
    assert (events[1]["event"], events[1]["status"]) == ("run_closed", "rejected")
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_a_paused_step_is_announced_by_the_global_webhook(
    api: ApiStack, stub_llm: StubLLM, webhook_receiver: WebhookReceiver
) -> None:
    await api.restart_api_with(KASAL_WEBHOOK_URL=webhook_receiver.url)
    stub_llm.script(marker("a"), Reply.error(400, "bad"))
    spec = {"agents": [agent()], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    [event] = await eventually(lambda: _events(webhook_receiver), lambda e: len(e) == 1)
    assert (event["event"], event["step_id"], event["status"]) == (
        "needs_attention",
        "a",
        "needs_attention",
    )
    await api.env.client.get_workflow_handle(run_id).terminate("test over")


async def test_a_webhook_that_is_down_never_blocks_the_run(
    api: ApiStack, stub_llm: StubLLM, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.status = 503
    spec = {
        "agents": [agent()],
        "steps": [task("a")],
        "notify": {"webhook_url": webhook_receiver.url},
    }
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "completed")
    await eventually(lambda: _refused(webhook_receiver), lambda refused: refused >= 1, timeout=30)
    webhook_receiver.status = 200  # it comes back: the retried delivery lands
    [event] = await eventually(lambda: _events(webhook_receiver), lambda e: len(e) == 1, timeout=30)
    assert (event["event"], event["status"]) == ("run_closed", "completed")


async def _events(receiver: WebhookReceiver) -> list[dict[str, object]]:
    return list(receiver.events)


async def _refused(receiver: WebhookReceiver) -> int:
    return receiver.refused
