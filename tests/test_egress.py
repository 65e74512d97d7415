"""The egress policy where the worker connects, and model configs that can neither
smuggle a destination through params nor borrow the worker's environment keys."""

from __future__ import annotations

import ipaddress
import uuid

import anyio
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.egress import (
    EgressRefused,
    check_url,
    checked_addresses,
    guarded_client,
    resolve,
)
from activities.model_registry import ModelConfig, StaticModelRegistry
from activities.tools.toolbox import NO_TOOL_SECRETS, ToolEnvironment
from db.blobs import BlobStore
from tests.conftest import STUB_MODEL
from tests.helpers import agent, start_run, task, wait_for_status
from tests.stub_llm import StubLLM
from tests.webhook_receiver import WebhookReceiver
from worker.main import build_worker
from workflows.egress import EgressPolicy
from workflows.status import StepStatus

ENV_KEY = "sk-worker-env-SECRET-91c2"
LOOPBACK_DENIED = EgressPolicy.parse("127.0.0.0/8, ::1", "")


def test_link_local_and_metadata_are_refused_whatever_the_settings() -> None:
    anything = EgressPolicy.parse("", "169.254.0.0/16, metadata.google.internal, fe80::/10")
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://2852039166/",  # 169.254.169.254 as one number
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fe80::1]/",
    ):
        assert anything.url_refusal(url) is not None, url
    assert EgressPolicy().url_refusal("http://127.0.0.1:8090/v1") is None
    assert EgressPolicy().url_refusal("http://10.0.0.5/v1") is None
    only_lan = EgressPolicy.parse("", "10.0.0.0/8, ollama.internal")
    assert only_lan.url_refusal("http://127.0.0.1/") is not None
    assert only_lan.url_refusal("http://10.0.0.5/") is None
    assert only_lan.url_refusal("https://api.openai.com/v1") is None  # a name: checked later


async def test_a_name_that_resolves_to_a_refused_address_is_refused_at_connect(
    webhook_receiver: WebhookReceiver,
) -> None:
    # "localhost" passes any check of the URL as written; what it resolves to does not.
    url = webhook_receiver.url.replace("127.0.0.1", "localhost")
    only_lan = EgressPolicy.parse("", "10.0.0.0/8")
    assert only_lan.url_refusal(url) is None
    with pytest.raises(EgressRefused, match="not listed in KASAL_EGRESS_ALLOW"):
        await check_url(url, only_lan)
    async with guarded_client(only_lan) as client:
        with pytest.raises(EgressRefused):
            await client.post(url, json={"event": "x"})
    async with guarded_client(EgressPolicy()) as client:
        assert (await client.post(url, json={"event": "ok"})).status_code == 200
    assert webhook_receiver.events == [{"event": "ok"}]


async def test_an_address_written_as_one_is_judged_without_the_resolver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_resolver(*args: object, **kwargs: object) -> object:
        raise AssertionError("the resolver was asked")

    with monkeypatch.context() as patched:
        patched.setattr(anyio, "getaddrinfo", no_resolver)
        assert await resolve("127.0.0.1", 80) == [ipaddress.ip_address("127.0.0.1")]
        mapped = await resolve("::ffff:169.254.169.254", 80)
        assert mapped == [ipaddress.ip_address("169.254.169.254")]
        # The old IPv4 spellings a resolver accepts are read as it reads them.
        assert await resolve("2130706433", 80) == [ipaddress.ip_address("127.0.0.1")]
        with pytest.raises(EgressRefused, match="refused by the egress policy"):
            await checked_addresses("127.0.0.1", 9, LOOPBACK_DENIED)
    # A name still goes to the resolver, and is judged by what it resolves to.
    assert ipaddress.ip_address("127.0.0.1") in await resolve("localhost", 80)


def local_config(stub_llm: StubLLM, **fields: object) -> ModelConfig:
    """The stub by name, with no key: a self-hosted model."""
    return ModelConfig(
        name=STUB_MODEL,
        model="openai/stub-model",
        api_base=stub_llm.url.replace("127.0.0.1", "localhost"),
        **fields,  # type: ignore[arg-type]
    )


def _worker(
    client: Client, blob_store: BlobStore, config: ModelConfig, egress: EgressPolicy
) -> Worker:
    return build_worker(
        client,
        f"kasal-egress-{uuid.uuid4()}",
        StaticModelRegistry({config.name: config}),
        blob_store,
        10,
        tools=ToolEnvironment(blob_store, NO_TOOL_SECRETS, egress=egress),
    )


async def test_a_keyless_config_with_a_base_url_never_sends_the_environment_key(
    client: Client, blob_store: BlobStore, stub_llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    # A destination smuggled through params is dropped by the worker too.
    config = local_config(stub_llm, params={"api_base": "http://169.254.169.254/", "seed": 7})
    worker = _worker(client, blob_store, config, EgressPolicy())
    async with worker:
        definition = {"agents": [agent()], "steps": [task("a")]}
        handle = await start_run(client, worker, definition)
        assert (await handle.result()).outcome == "completed"
    [call] = stub_llm.calls()
    assert call.authorization is not None and ENV_KEY not in call.authorization
    assert call.body.get("seed") == 7


async def test_a_model_behind_a_refused_address_is_never_called(
    client: Client, blob_store: BlobStore, stub_llm: StubLLM
) -> None:
    worker = _worker(client, blob_store, local_config(stub_llm), LOOPBACK_DENIED)
    async with worker:
        definition = {"agents": [agent()], "steps": [task("a")]}
        handle = await start_run(client, worker, definition)
        state = await wait_for_status(handle, lambda s: s.steps[0].status == StepStatus.PAUSED)
        assert "egress policy" in (state.steps[0].error or "")
        await handle.terminate("test over")
    assert stub_llm.calls() == []
