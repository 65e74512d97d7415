"""Shared fixtures: a real Temporal dev server, a real worker and the stub LLM over HTTP."""

from __future__ import annotations

import os
import tempfile

# CrewAI writes under $HOME when imported, and must stay quiet: set both before any
# test module imports it.
os.environ["HOME"] = tempfile.mkdtemp(prefix="kasal-test-home-")
from kasal.environment import quiet_crewai

quiet_crewai()

import asyncio  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# The stub is also a pytest plugin (its fixtures); imported below, it must be marked first.
pytest.register_assert_rewrite("tests.stub_llm")
from pydantic import SecretStr  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from activities.model_registry import ModelConfig, StaticModelRegistry  # noqa: E402
from db.blobs import BlobStore  # noqa: E402
from db.migrate import upgrade_to_head  # noqa: E402
from db.payload_store import PayloadStore, payload_data_converter  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from kasal.binaries import temporal_cli  # noqa: E402
from tests.stub_llm import StubLLM  # noqa: E402
from worker.main import build_worker  # noqa: E402
from workflows.search_attributes import ALL_KEYS  # noqa: E402

pytest_plugins = [
    "tests.stub_llm",
    "tests.postgres",
    "tests.api_stack",
    "tests.webhook_receiver",
    "tests.mcp_servers",
    "tests.tool_server",
]

# Lower than the server's default (4K events), so that runs of a few hundred steps
# continue as new too.
SUGGEST_CONTINUE_AS_NEW_EVENTS = 1000
# Enough one-step tasks for a history past that suggestion however the worker batches
# their completions: an activity alone writes three events (scheduled, started,
# completed). A quarter of the events, or a fifth, was sometimes just short of it.
STEPS_PAST_CONTINUE_AS_NEW = SUGGEST_CONTINUE_AS_NEW_EVENTS // 3 + 50
STUB_API_KEY = "sk-test-kasal-SECRET-4f2a9c"
STUB_MODEL = "stub"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Temporal Web, served by the session's dev server, so links to runs can be followed.
TEMPORAL_UI_PORT = free_port()
TEMPORAL_UI_URL = f"http://127.0.0.1:{TEMPORAL_UI_PORT}"


@pytest.fixture(scope="session")
async def temporal_env(payload_store: PayloadStore) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        ui=True,
        ui_port=TEMPORAL_UI_PORT,
        dev_server_existing_path=str(temporal_cli()),
        # As in the app: payloads over 16 KB go to the blob store.
        data_converter=payload_data_converter(payload_store),
        search_attributes=ALL_KEYS,
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_EVENTS}",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def stub_models(stub_llm: StubLLM) -> StaticModelRegistry:
    """A model registry whose `stub` config points at the stub LLM server."""
    return StaticModelRegistry(
        {
            STUB_MODEL: ModelConfig(
                name=STUB_MODEL,
                model="openai/stub-model",
                api_base=stub_llm.url,
                api_key=SecretStr(STUB_API_KEY),
            )
        }
    )


@pytest.fixture(scope="session")
async def blob_store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BlobStore]:
    """The claim-check store the engine tests' workers write to: a real SQLite database."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('blobs') / 'kasal.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        yield BlobStore(session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def payload_store(blob_store: BlobStore) -> PayloadStore:
    """The store behind the session client's payloads over 16 KB, on `blob_store`."""
    return PayloadStore(blob_store)


@pytest.fixture
async def worker(
    client: Client, stub_models: StaticModelRegistry, blob_store: BlobStore
) -> AsyncIterator[Worker]:
    """A real worker on a fresh task queue, calling the stub LLM through CrewAI and litellm."""
    worker = build_worker(client, f"kasal-test-{uuid.uuid4()}", stub_models, blob_store, 100)
    async with worker:
        yield worker


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once as SQLite and once as a real Postgres."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"
    return str(request.getfixturevalue("postgres_url"))
