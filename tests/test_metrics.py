"""/metrics of the API and of the worker (a real `python -m worker` process), counted
against what the test made: the runs started through the API and how they closed, the
gate decided, and the calls the stub LLM received."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kasal.dev import DEV_WORKER_METRICS_PORT, child_environment, with_worker_metrics
from kasal.settings import Settings
from tests.api_stack import ApiStack
from tests.conftest import free_port
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import start, wait_for_run
from tests.worker_process import WorkerProcess

on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

STUB_MODEL_NAME = "openai/stub-model"  # the stack's `stub` config, as litellm names it
CHAIN: dict[str, Any] = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
CALCULATES: dict[str, Any] = {"agents": [agent(tools=["calculate"])], "steps": [task("t")]}
GATED: dict[str, Any] = {
    "agents": [agent()],
    "steps": [
        task("g"),
        {"id": "review", "type": "approval", "after": ["g"], "message": "Go on?"},
    ],
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def create_workflow(api: ApiStack, name: str, spec: dict[str, Any]) -> str:
    response = await api.http.post("/workflows", json={"name": name, "spec": spec})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def log_of(process: WorkerProcess) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return process.log()

    return read


@pytest.fixture
def metrics_worker(api: ApiStack, tmp_path: Path) -> Iterator[tuple[WorkerProcess, str]]:
    """The stack's worker as `kasal worker` runs it, with its /metrics on a free port."""
    port = free_port()
    settings = api.settings.model_copy(update={"KASAL_WORKER_METRICS_PORT": port})
    process = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        yield process, f"http://127.0.0.1:{port}/metrics"
    finally:
        process.stop()


@on_sqlite
async def test_metrics_count_the_runs_gates_and_calls_that_were_made(
    api: ApiStack, stub_llm: StubLLM, metrics_worker: tuple[WorkerProcess, str]
) -> None:
    await api.stop_worker()  # the worker process alone runs the steps, so it counts them
    worker, worker_metrics = metrics_worker
    await eventually(log_of(worker), lambda text: "worker polling" in text, timeout=120)
    stub_llm.script(
        marker("t"),
        Reply(
            "Thought: I should use a tool.\nAction: calculate\n"
            f"Action Input: {json.dumps({'expression': '6*7'})}"
        ),
        Reply("Thought: I know it now.\nFinal Answer: forty-two"),
    )

    chain, calculates, gated = [
        await create_workflow(api, name, spec)
        for name, spec in (("chain", CHAIN), ("calculates", CALCULATES), ("gated", GATED))
    ]
    finished = [(await start(api, chain))["run_id"] for _ in range(2)]
    finished.append((await start(api, calculates))["run_id"])
    approved, cancelled = [(await start(api, gated))["run_id"] for _ in range(2)]
    for run_id in (approved, cancelled):
        await wait_for_run(api, run_id, "waiting_for_approval", timeout=60)
    decided = await api.http.post(
        f"/runs/{approved}/steps/review/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    assert (await api.http.post(f"/runs/{cancelled}/cancel")).status_code == 202
    for run_id in [*finished, approved]:
        await wait_for_run(api, run_id, "completed", timeout=60)
    await wait_for_run(api, cancelled, "cancelled", timeout=60)

    # The API counts from Temporal's visibility store, which lags the runs a little.
    api_samples = await eventually(
        lambda: scrape(f"{api.server.url}/metrics"),
        lambda s: value(s, "kasal_runs_closed_total", status="completed") == 4,
        timeout=30,
    )
    assert value(api_samples, "kasal_runs_started_total") == 5
    assert value(api_samples, "kasal_runs_closed_total", status="cancelled") == 1
    for status in ("rejected", "failed", "terminated", "timed_out"):
        assert value(api_samples, "kasal_runs_closed_total", status=status) == 0
    assert value(api_samples, "kasal_gate_wait_seconds_count") == 1

    calls = stub_llm.calls()
    assert len(calls) == 8  # two chains of two steps, the tool run's two turns, two gates
    samples = await scrape(worker_metrics)
    assert value(samples, "kasal_llm_calls_total", model=STUB_MODEL_NAME) == len(calls)
    prompt_tokens = sum((call.usage or {}).get("prompt_tokens", 0) for call in calls)
    assert prompt_tokens > 0
    assert value(samples, "kasal_llm_tokens_total", model=STUB_MODEL_NAME, kind="prompt") == (
        prompt_tokens
    )
    completion_tokens = sum((call.usage or {}).get("completion_tokens", 0) for call in calls)
    assert value(samples, "kasal_llm_tokens_total", model=STUB_MODEL_NAME, kind="completion") == (
        completion_tokens
    )
    assert value(samples, "kasal_llm_tokens_total", model=STUB_MODEL_NAME, kind="cached") == 0
    assert value(samples, "kasal_llm_cost_usd_total", model=STUB_MODEL_NAME) == 0  # unpriced
    assert value(samples, "kasal_tool_calls_total", tool="calculate") == 1
    assert value(samples, "kasal_step_duration_seconds_count") == 7  # one attempt each
    assert value(samples, "kasal_activity_slots_used") == 0

    # The Temporal SDK's own metrics, from the worker's core, on the same endpoint.
    step_latencies = [
        count
        for (name, labels), count in samples.items()
        if name == "temporal_activity_execution_latency_seconds_count"
        and ("activity_type", "run_task_step") in labels
    ]
    assert step_latencies == [7]
    assert any(name == "temporal_worker_task_slots_available" for name, _ in samples)


def test_kasal_dev_serves_the_workers_metrics_unless_the_port_is_chosen() -> None:
    unset = Settings(_env_file=None)
    assert "KASAL_WORKER_METRICS_PORT" not in unset.model_fields_set
    assert unset.KASAL_WORKER_METRICS_PORT == 0  # `kasal worker` alone serves none
    dev = with_worker_metrics(unset)
    assert dev.KASAL_WORKER_METRICS_PORT == DEV_WORKER_METRICS_PORT
    assert child_environment(dev, {})["KASAL_WORKER_METRICS_PORT"] == str(DEV_WORKER_METRICS_PORT)
    chosen = Settings(_env_file=None, KASAL_WORKER_METRICS_PORT=0)
    assert with_worker_metrics(chosen).KASAL_WORKER_METRICS_PORT == 0
