"""Every webhook POST is signed with its workspace's secret: a receiver can tell Kasal's
deliveries from forgeries, and an old delivery replayed later from a fresh one."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import pytest

from api.services.webhook_secrets import webhook_secret
from db.secrets import load_secret_box
from db.webhook_signing import SIGNATURE_HEADER, signature, verify
from tests.api_stack import ApiStack
from tests.helpers import agent, eventually, task
from tests.stub_llm import StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def test_a_delivery_carries_a_signature_of_its_exact_bytes(
    api: ApiStack, stub_llm: StubLLM, webhook_receiver: WebhookReceiver
) -> None:
    spec = {
        "agents": [agent()],
        "steps": [task("a")],
        "notify": {"webhook_url": webhook_receiver.url},
    }
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await wait_for_run(api, run_id, "completed")
    [(headers, body)] = await eventually(
        lambda: _deliveries(webhook_receiver), lambda d: len(d) == 1, timeout=30
    )
    # The secret an admin reads from the API, for runs of the default workspace.
    box = load_secret_box(api.settings.KASAL_SECRET_KEY, api.settings.KASAL_DATA_DIR, create=False)
    secret = webhook_secret(box, "default")
    header = headers[SIGNATURE_HEADER]
    assert verify(secret, header, body)

    # What the README tells receivers to compute, by hand.
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert abs(time.time() - int(fields["t"])) < 60

    # A forged body, another workspace's secret, or the same delivery replayed an hour
    # later: all refused.
    assert not verify(secret, header, body.replace(b"completed", b"rejected"))
    assert not verify(webhook_secret(box, "other-team"), header, body)
    assert not verify(secret, header, body, now=int(fields["t"]) + 3600)


def test_signatures_are_per_workspace_and_need_the_instance_key(tmp_path: Path) -> None:
    box = load_secret_box("instance-key-1", tmp_path, create=False)
    same = load_secret_box("instance-key-1", tmp_path, create=False)
    other = load_secret_box("instance-key-2", tmp_path, create=False)
    assert webhook_secret(box, "team-a") == webhook_secret(same, "team-a")
    assert webhook_secret(box, "team-a") != webhook_secret(box, "team-b")
    assert webhook_secret(box, "team-a") != webhook_secret(other, "team-a")
    body = b'{"event":"run_closed"}'
    header = signature(webhook_secret(box, "team-a"), 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify(webhook_secret(box, "team-a"), header, body, now=1_700_000_100)
    assert not verify(webhook_secret(box, "team-a"), header, body, now=1_700_000_301)
    assert not verify(webhook_secret(box, "team-a"), "v1=deadbeef", body)


async def _deliveries(receiver: WebhookReceiver) -> list[tuple[dict[str, str], bytes]]:
    return list(receiver.deliveries)
