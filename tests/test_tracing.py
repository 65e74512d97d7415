"""One trace per run: the API request that starts it, the workflow, the step's activity,
its LLM and tool calls and the database's queries, exported over OTLP/HTTP to a receiver
in the test, with the GenAI attributes on the LLM span and no secret anywhere.

The API and the worker run as processes of their own (`kasal api`, `kasal worker`), with
``OTEL_EXPORTER_OTLP_ENDPOINT`` set for them only: a tracer provider is process-wide
state, and no other test's process gets one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider
from temporalio.testing import WorkflowEnvironment

from activities.tracing import COST_MICROS
from kasal.processes import stop_process
from kasal.settings import Settings
from kasal.tracing import client_interceptors, install_tracing, trace_url
from tests.api_stack import ADMIN_EMAIL, bearer, issue_token
from tests.conftest import STUB_API_KEY, STUB_MODEL, free_port
from tests.helpers import agent, eventually, marker, task
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.stub_llm import Reply, StubLLM
from tests.test_tools_end_to_end import react
from workflows.roles import Role

ROOT = Path(__file__).resolve().parents[1]
TRACE_URL_TEMPLATE = "http://traces.test/trace/{trace_id}"
SERVER, CLIENT = 2, 3  # OTLP span kinds
SPEC: dict[str, Any] = {
    "agents": [agent(tools=["calculate"])],
    "steps": [task("traced", description="Do step STEP-TRACED.")],
}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def traced_api(
    temporal_env: WorkflowEnvironment, tmp_path: Path, stub_llm: StubLLM, receiver: OtlpReceiver
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """`kasal api` and `kasal worker` exporting to ``receiver``, the stub LLM registered as
    the model config `stub`; an admin's client and the admin's token."""
    settings = Settings(
        KASAL_DATA_DIR=tmp_path / "data",
        KASAL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}",
        KASAL_PORT=free_port(),
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=temporal_env.client.namespace,
        KASAL_TASK_QUEUE=f"kasal-tracing-test-{uuid.uuid4()}",
    )
    env = _traced_env(settings, receiver.endpoint)
    base_url = f"http://127.0.0.1:{settings.KASAL_PORT}"
    api = _kasal("api", env, tmp_path / "api.log")
    worker: subprocess.Popen[bytes] | None = None
    try:
        await _until_answers(f"{base_url}/auth/config", api, tmp_path / "api.log")
        # The API created the data directory's secret key, which the worker reads.
        worker = _kasal("worker", env, tmp_path / "worker.log")
        token = await issue_token(settings, ADMIN_EMAIL, Role.ADMIN)
        async with httpx.AsyncClient(
            base_url=f"{base_url}/api/v1", timeout=30, headers=bearer(token)
        ) as http:
            model = {
                "name": STUB_MODEL,
                "model": "openai/stub-model",
                "api_base": stub_llm.url,
                "api_key": STUB_API_KEY,
            }
            response = await http.post("/models", json=model)
            assert response.status_code == 201, response.text
            yield http, token
    finally:
        for process in (worker, api):
            if process is not None:
                stop_process(process, 30, kill_group=True)


def _traced_env(settings: Settings, endpoint: str) -> dict[str, str]:
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
        "KASAL_TRACE_URL_TEMPLATE": TRACE_URL_TEMPLATE,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        # Batches go out within 0.1 s instead of 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "PYTHONUNBUFFERED": "1",
    }


def _kasal(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kasal", command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _until_answers(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}:\n{log.read_text()}")
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                return (await http.get(url)).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, bool, timeout=120)


async def test_a_run_is_one_trace_from_the_request_to_each_call(
    traced_api: tuple[httpx.AsyncClient, str], stub_llm: StubLLM, receiver: OtlpReceiver
) -> None:
    http, token = traced_api
    stub_llm.script(
        marker("traced"),
        react("calculate", {"expression": "6*7"}),
        Reply("Final Answer: 42"),
    )
    created = await http.post("/workflows", json={"name": "traced", "spec": SPEC})
    assert created.status_code == 201, created.text
    started = await http.post(f"/workflows/{created.json()['id']}/runs", json={})
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]

    async def read() -> dict[str, Any]:
        return dict((await http.get(f"/runs/{run_id}")).json())

    run = await eventually(read, lambda run: run["status"] == "completed", timeout=90)
    # The run links to the trace of the request that started it.
    assert run["trace_url"] and run["trace_url"].startswith("http://traces.test/trace/")
    trace_id = run["trace_url"].rsplit("/", 1)[1]
    assert trace_url(TRACE_URL_TEMPLATE, trace_id) == run["trace_url"]

    def complete(spans: list[ReceivedSpan]) -> bool:
        names = {span.name for span in spans}
        return {"RunActivity:run_task_step", "execute_tool calculate"} <= names and any(
            span.name.startswith("chat ") for span in spans
        )

    spans = await eventually(lambda: _async(receiver.trace(trace_id)), complete, timeout=30)
    by_id = {span.span_id: span for span in spans}

    [request] = [s for s in spans if s.kind == SERVER and s.parent_span_id == ""]
    assert request.service == "kasal-api"
    assert request.attributes["http.route"] == "/api/v1/workflows/{workflow_id}/runs"
    # No span per ASGI message (kasal/tracing.py): the request's own span says it all.
    assert not [s for s in spans if s.name.endswith((" http send", " http receive"))]
    assert "StartWorkflow:AgentWorkflowV2" in {s.name for s in spans}
    assert "RunWorkflow:AgentWorkflowV2" in {s.name for s in spans}
    [activity] = [s for s in spans if s.name == "RunActivity:run_task_step"]
    assert activity.service == "kasal-worker"

    llm_spans = [s for s in spans if s.name == "chat openai/stub-model"]
    assert len(llm_spans) == 2  # the tool's turn and the answer's
    for llm in llm_spans:
        assert llm.kind == CLIENT
        assert activity in _ancestors(llm, by_id)
        assert llm.attributes["gen_ai.system"] == "openai"
        assert llm.attributes["gen_ai.request.model"] == "openai/stub-model"
        assert llm.attributes["gen_ai.usage.input_tokens"] > 0
        assert llm.attributes["gen_ai.usage.output_tokens"] > 0
        assert COST_MICROS in llm.attributes
    [tool] = [s for s in spans if s.name == "execute_tool calculate"]
    assert tool.attributes["gen_ai.tool.name"] == "calculate"
    assert activity in _ancestors(tool, by_id)
    # SQLAlchemy's spans, from both processes.
    database = {s.service for s in spans if s.attributes.get("db.system") == "sqlite"}
    assert database == {"kasal-api", "kasal-worker"}

    # No secret in any span received: not the model's key, not the caller's token.
    for span in receiver.spans:
        for key, value in span.attributes.items():
            assert STUB_API_KEY not in str(value) and token not in str(value), (span.name, key)
            assert "authorization" not in key.lower() and "api_key" not in key.lower()


def test_without_an_endpoint_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert install_tracing("kasal-test") is False
    assert client_interceptors() == []
    assert isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


def test_the_trace_url_fills_in_the_trace_id() -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_url("https://ui.example/t/{trace_id}?x=1", trace_id) == (
        f"https://ui.example/t/{trace_id}?x=1"
    )
    assert trace_url(None, trace_id) is None
    assert trace_url("https://ui.example/t/{trace_id}", None) is None


def _ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    found = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        found.append(span)
    return found


async def _async(value: list[ReceivedSpan]) -> list[ReceivedSpan]:
    await asyncio.sleep(0)
    return value
