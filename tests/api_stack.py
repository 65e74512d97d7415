"""The whole service for API tests: the real app over HTTP (uvicorn), a real database,
the Temporal dev server, a worker reading model configs from that database, and the
stub LLM registered as the model config `stub`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.approver_email import ApproverMailer, SmtpSettings
from activities.db_model_registry import DatabaseModelRegistry
from activities.generation import DatabaseCatalogue
from activities.scheduled_runs import ScheduledRunActivities
from api.authorization import WORKSPACE_HEADER
from api.main import create_app
from api.services.identity import IdentityService
from db.blob_cipher import BlobCipher
from db.blobs import BlobStore
from db.models import DEFAULT_WORKSPACE
from db.payload_store import PayloadStore, payload_data_converter
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings
from tests.conftest import STUB_API_KEY, STUB_MODEL, TEMPORAL_UI_URL, free_port
from tests.stub_llm import StubLLM
from worker.main import build_worker, tool_environment
from workflows.roles import Role


class TcpProxy:
    """A TCP relay to ``target`` that a test can cut, as a network partition would: the
    connections through it are dropped and new ones are refused."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        try:
            upstream, to_upstream = await asyncio.open_connection(*self._target)
        except OSError:
            to_client.transport.abort()
            return
        self._writers += [to_client, to_upstream]
        await asyncio.gather(
            _pipe(client, to_upstream), _pipe(upstream, to_client), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.transport.abort()


class ApiServer:
    """uvicorn serving create_app(settings) inside the test's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.KASAL_PORT}"

    @property
    def app(self) -> FastAPI:
        """The served app, whose state (its database engine) a test may reach into."""
        assert self._server is not None
        app: FastAPI = self._server.config.app
        return app

    async def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.settings),
            host="127.0.0.1",
            port=self.settings.KASAL_PORT,
            log_level="warning",
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task


@dataclass
class ApiStack:
    settings: Settings
    server: ApiServer
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    worker: Worker | None = None
    _engine: Any = field(default=None, repr=False)

    def client_as(self, token: str, workspace: str | None = None) -> httpx.AsyncClient:
        """An API client of another principal (close it, or use it as a context)."""
        headers = bearer(token)
        if workspace is not None:
            headers[WORKSPACE_HEADER] = workspace
        return httpx.AsyncClient(base_url=f"{self.server.url}/api/v1", timeout=30, headers=headers)

    async def restart_api(self) -> None:
        await self.server.stop()
        self.server = ApiServer(self.settings)
        await self.server.start()

    async def restart_api_with(self, **settings: Any) -> None:
        self.settings = self.settings.model_copy(update=settings)
        await self.restart_api()

    async def start_worker(self) -> None:
        secrets = load_secret_box(
            self.settings.KASAL_SECRET_KEY, self.settings.KASAL_DATA_DIR, create=False
        )
        self._engine = create_engine(self.settings.database_url)
        sessions = session_factory(self._engine)
        models = DatabaseModelRegistry(sessions, secrets)
        blobs = BlobStore(sessions, BlobCipher.of(secrets))
        self.worker = build_worker(
            self.env.client,
            self.settings.KASAL_TASK_QUEUE,
            models,
            blobs,
            100,
            # As `kasal worker` does: tools' secret headers from this stack's database.
            tools=tool_environment(self.settings, sessions, secrets, blobs),
            secrets=secrets,
            mailer=ApproverMailer(SmtpSettings.from_settings(self.settings), sessions),
            catalogue=DatabaseCatalogue(sessions, secrets),
            scheduled_runs=ScheduledRunActivities(sessions, secrets, self.settings),
        )
        await self.worker.__aenter__()
        await self._until_the_worker_polls()

    async def _until_the_worker_polls(self) -> None:
        """A started worker registers as a poller only when its first long poll reaches
        the server; tests that read /healthz (or time a run) start after that."""
        request = DescribeTaskQueueRequest(
            namespace=self.env.client.namespace,
            task_queue=TaskQueue(name=self.settings.KASAL_TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        for _ in range(200):
            described = await self.env.client.workflow_service.describe_task_queue(request)
            if described.pollers:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no worker polled {self.settings.KASAL_TASK_QUEUE} within 10 s")

    async def stop_worker(self) -> None:
        if self.worker is not None:
            await self.worker.__aexit__(None, None, None)
            self.worker = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


ADMIN_EMAIL = "admin@kasal.test"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def issue_token(
    settings: Settings, email: str, role: Role, workspace: str = DEFAULT_WORKSPACE
) -> str:
    """A user with ``role`` in ``workspace`` (created if new), and an API token of theirs,
    made as `kasal user add` and `kasal token create` do: on the database directly."""
    engine = create_engine(settings.database_url)
    try:
        identity = IdentityService(UnitOfWork(session_factory(engine)))
        user = await identity.add_user(email, role=role, workspace=workspace)
        issued = await identity.issue(user.id, "token", name="tests", lifetime=None)
        return issued.secret
    finally:
        await engine.dispose()


def stack_settings(temporal: WorkflowEnvironment, data_dir: Path, database_url: str) -> Settings:
    return Settings(
        KASAL_DATA_DIR=data_dir,
        KASAL_DATABASE_URL=database_url,
        KASAL_PORT=free_port(),
        KASAL_SECRET_KEY=None,
        TEMPORAL_ADDRESS=temporal.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=temporal.client.namespace,
        KASAL_TASK_QUEUE=f"kasal-api-test-{uuid.uuid4()}",
        KASAL_TEMPORAL_UI_URL=TEMPORAL_UI_URL,
    )


@asynccontextmanager
async def open_api_stack(
    temporal_env: WorkflowEnvironment, data_dir: Path, database_url: str, stub_llm_url: str
) -> AsyncIterator[ApiStack]:
    """The whole stack on ``database_url``, with the stub LLM at ``stub_llm_url`` as the
    model config `stub`; a module that runs many runs may share one (see `api`)."""
    settings = stack_settings(temporal_env, data_dir, database_url)
    server = ApiServer(settings)
    await server.start()  # its start-up migrates the database
    # The session's Temporal, through a client whose payloads over 16 KB go to the stack's
    # database, as the API's do: the worker's client, and the tests', read what the API
    # wrote and the other way round.
    payload_engine = create_engine(database_url)
    # Encrypted as the API's and the worker's are (db/blob_cipher.py).
    secrets = load_secret_box(settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=False)
    payload_blobs = BlobStore(session_factory(payload_engine), BlobCipher.of(secrets))
    converter = payload_data_converter(PayloadStore(payload_blobs))
    env = WorkflowEnvironment(
        Client(**{**temporal_env.client.config(), "data_converter": converter})
    )
    # The tests act as the first admin, through a personal API token, as a script would.
    token = await issue_token(settings, ADMIN_EMAIL, Role.ADMIN)
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", timeout=30, headers=bearer(token)
    ) as http:
        stack = ApiStack(settings=settings, server=server, http=http, env=env)
        response = await http.post(
            "/models",
            json={
                "name": STUB_MODEL,
                "model": "openai/stub-model",
                "api_base": stub_llm_url,
                "api_key": STUB_API_KEY,
            },
        )
        response.raise_for_status()
        await stack.start_worker()
        try:
            yield stack
        finally:
            await stack.stop_worker()
            await stack.server.stop()
            await payload_engine.dispose()


@pytest.fixture
async def api(
    temporal_env: WorkflowEnvironment, database_url: str, tmp_path: Path, stub_llm: StubLLM
) -> AsyncIterator[ApiStack]:
    async with open_api_stack(temporal_env, tmp_path / "data", database_url, stub_llm.url) as stack:
        yield stack
