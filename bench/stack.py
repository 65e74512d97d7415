"""The whole service as it is deployed, for the goal benchmarks (P1-P7, the load check):
the Temporal dev server, `kasal api` and `kasal worker` as processes of their own with
tracing on (exported to a sink here), the stub LLM, and beside them a bare Temporal
worker process (bench/bare_worker.py), the anchor the ratios are taken against.

The bench's own client is the API's: ``connect`` over the same database, so it reads
the runs the API starts and starts the same workflows itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.tools.pdeathsig_exec import die_with_parent
from api.services.identity import IdentityService
from bench.harness import AGENT
from db.blob_cipher import BlobCipher
from db.blobs import BlobStore
from db.models import DEFAULT_WORKSPACE
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.binaries import temporal_cli
from kasal.processes import stop_process
from kasal.settings import Settings
from kasal.temporal_client import connect
from tests.conftest import free_port
from tests.stub_llm import Reply, StubLLM
from tests.worker_process import supervised_workers
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.roles import Role
from workflows.run_state import AgentWorkflowResult
from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).parent.parent
READY_TIMEOUT_SECONDS = 120.0
STEP_MARKER = "STEP-"
STUB_MODEL = "stub"
BENCH_ADMIN = "bench@kasal.test"
LAUNCH_ATTEMPTS = 3


class TraceSink:
    """An OTLP/HTTP endpoint that accepts every batch and keeps only a count: tracing on
    costs the exporters their work, and this process as little as a collector would."""

    def __init__(self) -> None:
        self.batches = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.batches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def spec_of(steps: list[tuple[str, list[str]]], max_parallel: int = 16) -> dict[str, Any]:
    """A definition of task steps given as (id, after); each prompt holds STEP-<ID>."""
    return {
        "agents": [AGENT | {"llm": STUB_MODEL}],
        "steps": [
            {
                "id": step_id,
                "type": "task",
                "agent": AGENT["id"],
                "description": f"{STEP_MARKER}{step_id.upper()}",
                "expected_output": "x",
                "after": after,
            }
            for step_id, after in steps
        ],
        "max_parallel": max_parallel,
    }


def chain(count: int) -> list[tuple[str, list[str]]]:
    return [(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(count)]


@dataclass
class Stack:
    settings: Settings
    temporal: WorkflowEnvironment
    client: Client  # as the API's: same converter, same payload store
    stub: StubLLM
    http: httpx.AsyncClient  # an admin's, at /api/v1
    api: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    bare_worker: subprocess.Popen[bytes]
    bare_task_queue: str
    traces: TraceSink
    sign_in_token: str  # one-time: the browser's (P7)
    launch_retries: int = 0

    def llm_latency(self, seconds: float) -> None:
        """Every step's LLM call (and the bare activity's) answers after ``seconds``."""
        self.stub.reset()
        self.stub.script(STEP_MARKER, Reply("Final Answer: ok", delay=seconds))

    async def create_workflow(self, spec: dict[str, Any]) -> str:
        created = await self.http.post(
            "/workflows", json={"name": f"bench-{uuid.uuid4().hex[:12]}", "spec": spec}
        )
        created.raise_for_status()
        return str(created.json()["id"])

    async def launch(self, workflow_id: str) -> tuple[str, float]:
        """POST /runs: the run's id and the seconds until the API answered (started).

        As a client should: with an Idempotency-Key, sent again when the connection broke
        before an answer, or when an overloaded API shed it (503, after its Retry-After),
        so a launch is never lost nor started twice. Those second tries are counted
        (``launch_retries``) and their time is in the launch's."""
        key = str(uuid.uuid4())
        started = time.perf_counter()
        for attempt in range(1, LAUNCH_ATTEMPTS + 1):
            last = attempt == LAUNCH_ATTEMPTS
            try:
                response = await self.http.post(
                    f"/workflows/{workflow_id}/runs",
                    json={"inputs": {}},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                if last:
                    raise
                self.launch_retries += 1
                continue
            if response.status_code != 503 or last:
                break
            self.launch_retries += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", 1)))
        seconds = time.perf_counter() - started
        response.raise_for_status()
        return str(response.json()["run_id"]), seconds

    def run_handle(self, run_id: str) -> WorkflowHandle[Any, AgentWorkflowResult]:
        return self.client.get_workflow_handle_for(AgentWorkflowV2.run, run_id)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.KASAL_PORT}"

    @property
    def worker_pid(self) -> int:
        """The worker's own process, which `kasal worker`, its supervisor, forked."""
        [pid] = supervised_workers(self.worker.pid)
        return pid

    def worker_rss_mb(self) -> float:
        return rss_mb(self.worker_pid)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def _environment(settings: Settings, traces: str) -> dict[str, str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("KASAL_", "TEMPORAL_", "OTEL_"))
    }
    return inherited | {
        "KASAL_DATA_DIR": str(settings.KASAL_DATA_DIR),
        "KASAL_DATABASE_URL": settings.database_url,
        "KASAL_PORT": str(settings.KASAL_PORT),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.TEMPORAL_NAMESPACE,
        "KASAL_TASK_QUEUE": settings.KASAL_TASK_QUEUE,
        "KASAL_WORKER_METRICS_PORT": "0",
        "OTEL_EXPORTER_OTLP_ENDPOINT": traces,
        "PYTHONUNBUFFERED": "1",
    }


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A bench killed outright (SIGKILL, no unwinding) takes its stack with it.
            preexec_fn=partial(die_with_parent, signal.SIGTERM, os.getpid()),
        )


async def _until(ready: Any, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not await ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited {process.returncode}: see {log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready in {READY_TIMEOUT_SECONDS} s")
        await asyncio.sleep(0.2)


async def _admin(settings: Settings) -> tuple[str, str]:
    """The bench's admin: an API token, and a one-time sign-in link for the browser (P7)."""
    engine = create_engine(settings.database_url)
    try:
        identity = IdentityService(UnitOfWork(session_factory(engine)))
        user = await identity.add_user(BENCH_ADMIN, role=Role.ADMIN, workspace=DEFAULT_WORKSPACE)
        token = await identity.issue(user.id, "token", name="bench", lifetime=None)
        link = await identity.issue(user.id, "link", lifetime=None)
        return token.secret, link.secret
    finally:
        await engine.dispose()


@asynccontextmanager
async def service_stack() -> AsyncIterator[Stack]:
    workdir = Path(tempfile.mkdtemp(prefix="kasal-bench-stack-"))
    temporal = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()), search_attributes=ALL_KEYS
    )
    traces = TraceSink()
    settings = Settings(
        KASAL_DATA_DIR=workdir / "data",
        KASAL_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'kasal.db'}",
        KASAL_PORT=free_port(),
        TEMPORAL_ADDRESS=temporal.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=temporal.client.namespace,
        KASAL_TASK_QUEUE=f"kasal-bench-{uuid.uuid4()}",
    )
    env = _environment(settings, traces.endpoint)
    processes: list[subprocess.Popen[bytes]] = []
    engine = None
    try:
        api = _spawn(["kasal", "api"], env, workdir / "api.log")
        processes.append(api)
        base = f"http://127.0.0.1:{settings.KASAL_PORT}"

        async def api_answers() -> bool:
            try:
                async with httpx.AsyncClient(timeout=5) as probe:
                    return (await probe.get(f"{base}/auth/config")).status_code == 200
            except httpx.TransportError:
                return False

        await _until(api_answers, api, workdir / "api.log", "kasal api")
        # The API made the data directory's secret key, which the worker and we read.
        worker = _spawn(["kasal", "worker"], env, workdir / "worker.log")
        processes.append(worker)
        bare_task_queue = f"bare-{uuid.uuid4()}"
        bare = _spawn(
            ["bench.bare_worker", settings.temporal_address, bare_task_queue],
            env,
            workdir / "bare.log",
        )
        processes.append(bare)
        secrets = load_secret_box(None, settings.KASAL_DATA_DIR, create=False)
        engine = create_engine(settings.database_url)
        client = await connect(settings, BlobStore(session_factory(engine), BlobCipher.of(secrets)))
        token, link = await _admin(settings)
        with StubLLM() as stub:
            async with httpx.AsyncClient(
                base_url=f"{base}/api/v1",
                timeout=120,
                headers={"Authorization": f"Bearer {token}"},
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
            ) as http:
                model = {"name": STUB_MODEL, "model": "openai/stub", "api_base": stub.url}
                (await http.post("/models", json=model | {"api_key": "k"})).raise_for_status()
                stack = Stack(
                    settings,
                    temporal,
                    client,
                    stub,
                    http,
                    api,
                    worker,
                    bare,
                    bare_task_queue,
                    traces,
                    link,
                )
                await _until(
                    lambda: _polled(stack, settings.KASAL_TASK_QUEUE),
                    worker,
                    workdir / "worker.log",
                    "kasal worker",
                )
                await _until(
                    lambda: _polled(stack, bare_task_queue), bare, workdir / "bare.log", "bare"
                )
                yield stack
    finally:
        for process in reversed(processes):
            stop_process(process, 30, kill_group=True)
        if engine is not None:
            await engine.dispose()
        traces.close()
        await temporal.shutdown()


async def _polled(stack: Stack, task_queue: str) -> bool:
    described = await stack.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=stack.client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return bool(described.pollers)
