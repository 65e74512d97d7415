"""The model-based fault harness: hypothesis makes plans, LLM failures, operator actions
(some at once, some repeated) and worker restarts, on a real dev server that suggests
continue-as-new every few events, and holds each run to the reference model.

`make test` runs a fixed seed for a bounded number of examples; `make fuzz` runs many
more with a fresh seed (KASAL_FUZZ_EXAMPLES, KASAL_FUZZ_SEED). A failure it finds is
kept below as a named test with the shrunk scenario.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, seed, settings
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.model_registry import StaticModelRegistry
from db.blobs import BlobStore
from db.payload_store import PayloadStore, payload_data_converter
from kasal.binaries import temporal_cli
from tests.fuzz.driver import run_and_check
from tests.fuzz.scenario import GateSpec, Scenario, TaskSpec, scenarios
from tests.stub_llm import StubLLM
from worker.main import build_worker
from workflows.search_attributes import ALL_KEYS

# Continue-as-new is suggested this often, so that most fuzzed runs cross it.
SUGGEST_CONTINUE_AS_NEW_EVENTS = 24
EXAMPLES = int(os.environ.get("KASAL_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("KASAL_FUZZ_SEED", "20261130"))


class RestartableWorker:
    """An in-process worker that a scenario can stop and start again on the same queue,
    so the run's next task is replayed from history by a worker with an empty cache."""

    def __init__(self, client: Client, models: StaticModelRegistry, blobs: BlobStore) -> None:
        self.client, self.models, self.blobs = client, models, blobs
        self.task_queue = f"kasal-fuzz-{uuid.uuid4()}"
        self.worker: Worker | None = None

    async def start(self) -> Worker:
        self.worker = build_worker(self.client, self.task_queue, self.models, self.blobs, 50)
        await self.worker.__aenter__()
        return self.worker

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.__aexit__(None, None, None)
            self.worker = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture(scope="module")
async def fuzz_client(payload_store: PayloadStore) -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli()),
        data_converter=payload_data_converter(payload_store),
        search_attributes=ALL_KEYS,
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_EVENTS}",
        ],
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


@pytest.fixture
async def fuzz_worker(
    fuzz_client: Client, stub_models: StaticModelRegistry, blob_store: BlobStore
) -> AsyncIterator[RestartableWorker]:
    worker = RestartableWorker(fuzz_client, stub_models, blob_store)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


Check = Callable[[Scenario], Awaitable[None]]


@pytest.fixture
def check(fuzz_client: Client, fuzz_worker: RestartableWorker, stub_llm: StubLLM) -> Check:
    async def run(scenario: Scenario) -> None:
        assert fuzz_worker.worker is not None
        await run_and_check(
            scenario, fuzz_client, fuzz_worker.worker, stub_llm, fuzz_worker.restart
        )

    return run


@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_every_fuzzed_run_ends_as_the_model_says(check: Check, scenario: Scenario) -> None:
    await check(scenario)


# --- named regressions: scenarios the harness found, shrunk ---------------------------


async def test_a_task_after_a_step_skipped_on_its_second_pause_starts_after_the_skip(
    check: Check,
) -> None:
    await check(
        Scenario(
            steps=(
                TaskSpec(id="s0", after=()),
                TaskSpec(id="s1", after=(), replies=("500",), on_pause=("retry", "skip")),
                TaskSpec(id="s2", after=()),
                TaskSpec(id="s3", after=("s0", "s1")),
            )
        )
    )


async def test_a_rejected_gate_with_retry_upstream_across_continue_as_new(check: Check) -> None:
    await check(
        Scenario(
            steps=(
                TaskSpec(id="s0", after=(), replies=("500", "ok"), max_attempts=2),
                GateSpec(
                    id="s1",
                    after=("s0",),
                    on_reject="retry_upstream",
                    max_rejections=2,
                    decisions=("reject", "reject", "approve"),
                ),
                TaskSpec(
                    id="s2", after=("s1",), replies=("401",), on_pause=("retry_twice_at_once",)
                ),
            ),
            faults=("restart_worker",),
        )
    )
