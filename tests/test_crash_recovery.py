"""Nothing finished is ever done twice: a worker SIGKILLed mid-step, or a Temporal server
restarted mid-run, and the run still completes. Call counts at the stub LLM prove it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from kasal.binaries import temporal_cli
from tests.api_stack import (
    ADMIN_EMAIL,
    ApiServer,
    ApiStack,
    bearer,
    free_port,
    issue_token,
    stack_settings,
)
from tests.conftest import STUB_MODEL
from tests.helpers import agent, assert_replays, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.worker_process import WorkerProcess
from workflows.roles import Role
from workflows.search_attributes import ALL_KEYS
from workflows.task_activity import HEARTBEAT_TIMEOUT

# Kill to retried call: the heartbeat timeout, the step's first retry interval (1 s by
# default), and room for a loaded CI machine. The old 20 s timeout could not meet it.
RETRY_BOUND_SECONDS = HEARTBEAT_TIMEOUT.total_seconds() + 10

CHAIN: dict[str, Any] = {
    "agents": [agent()],
    "steps": [task("a"), task("b", after=["a"]), task("c", after=["b"])],
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # Process crashes are about Temporal and the worker; one database is enough here.
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


@pytest.fixture
def worker_processes(api: ApiStack, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for process in started:
        process.stop()


def spawn(api: ApiStack, tmp_path: Path, started: list[WorkerProcess]) -> WorkerProcess:
    process = WorkerProcess(api.settings, tmp_path / f"worker-{len(started)}.log").start()
    started.append(process)
    return process


async def calls(stub: StubLLM, match: str) -> int:
    return stub.call_count(match)


async def test_a_worker_killed_mid_step_is_replaced_and_nothing_finished_runs_again(
    api: ApiStack, stub_llm: StubLLM, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    await api.stop_worker()  # this test's workers live in their own processes
    stub_llm.script(marker("a"), Reply("a done"))
    stub_llm.script(marker("b"), Reply.timeout(), Reply("b done"))
    stub_llm.script(marker("c"), Reply("c done"))
    first = spawn(api, tmp_path, worker_processes)
    run_id = (await start(api, await create_workflow(api, CHAIN)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("b")), lambda n: n == 1, timeout=60)

    first.kill()
    second = spawn(api, tmp_path, worker_processes)
    # The retry waits for the heartbeat timeout to notice the dead worker.
    run = await wait_for_run(api, run_id, "completed", timeout=90)
    # The run was sticky to the dead worker: the retried step sent its next workflow task
    # to the shared queue (activities/silent_worker.py) rather than wait for that worker.
    assert "the run's sticky queue is reset" in second.log()

    assert [s["output"] for s in run["steps"]] == ["a done", "b done", "c done"]
    assert stub_llm.call_count(marker("a")) == 1  # finished before the crash: never again
    assert stub_llm.call_count(marker("b")) == 2  # in flight at the crash: retried once
    assert stub_llm.call_count(marker("c")) == 1
    await assert_replays(api.env.client.get_workflow_handle(run_id))


async def test_a_step_on_a_killed_worker_runs_again_on_another_within_seconds(
    api: ApiStack, stub_llm: StubLLM, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    await api.stop_worker()
    stub_llm.script(marker("a"), Reply("a done"))
    stub_llm.script(marker("b"), Reply.timeout(), Reply("b done"))
    stub_llm.script(marker("c"), Reply("c done"))
    first = spawn(api, tmp_path, worker_processes)
    run_id = (await start(api, await create_workflow(api, CHAIN)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("b")), lambda n: n == 1, timeout=60)
    # Another worker is up before the crash (its start-up is not what this measures).
    second = spawn(api, tmp_path, worker_processes)
    await eventually(lambda: log_of(second), lambda text: "worker polling" in text, timeout=120)

    first.kill()
    killed = time.monotonic()  # the stub runs in this process: the same clock as its calls
    run = await wait_for_run(api, run_id, "completed", timeout=90)

    retried = stub_llm.calls(marker("b"))[1].started_mono
    assert retried - killed < RETRY_BOUND_SECONDS, f"retried {retried - killed:.1f} s after kill"
    assert [s["output"] for s in run["steps"]] == ["a done", "b done", "c done"]
    assert stub_llm.call_count(marker("a")) == 1
    assert stub_llm.call_count(marker("c")) == 1


async def test_a_worker_process_killed_mid_step_is_forked_again_by_its_supervisor(
    api: ApiStack, stub_llm: StubLLM, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    """The OOM killer's case: the worker dies, its supervisor lives. A new worker is
    forked with every module loaded, takes the step over once its heartbeat timeout
    notices, and the run completes; killing the supervisor then leaves no worker behind."""
    await api.stop_worker()
    stub_llm.script(marker("a"), Reply("a done"))
    stub_llm.script(marker("b"), Reply.timeout(), Reply("b done"))
    stub_llm.script(marker("c"), Reply("c done"))
    supervised = spawn(api, tmp_path, worker_processes)
    await eventually(lambda: log_of(supervised), lambda text: "worker polling" in text, 120)
    run_id = (await start(api, await create_workflow(api, CHAIN)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("b")), lambda n: n == 1, timeout=60)

    killed_worker = supervised.worker_pid()
    os.kill(killed_worker, signal.SIGKILL)
    run = await wait_for_run(api, run_id, "completed", timeout=90)

    assert f"worker process {killed_worker} was killed by SIGKILL" in supervised.log()
    assert not supervised.exited()
    assert [s["output"] for s in run["steps"]] == ["a done", "b done", "c done"]
    assert stub_llm.call_count(marker("a")) == 1
    assert stub_llm.call_count(marker("b")) == 2
    assert stub_llm.call_count(marker("c")) == 1

    forked_again = supervised.worker_pid()
    assert forked_again != killed_worker
    supervised.kill()
    await eventually(
        lambda: process_gone(forked_again), lambda gone: gone, timeout=10
    )  # it died with its supervisor: no orphan keeps polling


async def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except FileNotFoundError:
        return True
    return state == "Z"  # a zombie: dead, only its reaper is gone too


async def test_a_worker_killed_mid_step_of_a_sub_workflow_loses_neither_run(
    api: ApiStack, stub_llm: StubLLM, tmp_path: Path, worker_processes: list[WorkerProcess]
) -> None:
    """The step in flight is the child's: the child's step runs again on the new worker,
    the child completes, and the parent, which waited without a step of its own in
    flight, goes on. Each finished step, parent's or child's, was asked once."""
    await api.stop_worker()
    stub_llm.script(marker("pick"), Reply("tides"))
    stub_llm.script(marker("research"), Reply.timeout(), Reply("research done"))
    stub_llm.script(marker("write"), Reply("written"))
    child = {"agents": [agent()], "steps": [task("research")]}
    await create_workflow(api, child, name="research")
    parent = {
        "agents": [agent()],
        "steps": [
            task("pick"),
            {"id": "sub", "type": "workflow", "after": ["pick"], "workflow": "research"},
            task("write", after=["sub"]),
        ],
    }
    first = spawn(api, tmp_path, worker_processes)
    run_id = (await start(api, await create_workflow(api, parent)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("research")), lambda n: n == 1, timeout=60)

    first.kill()
    spawn(api, tmp_path, worker_processes)
    run = await wait_for_run(api, run_id, "completed", timeout=90)

    assert [s["status"] for s in run["steps"]] == ["completed"] * 3
    assert run["steps"][1]["output"] == "research done"
    assert stub_llm.call_count(marker("pick")) == 1
    assert stub_llm.call_count(marker("research")) == 2  # in flight at the crash
    assert stub_llm.call_count(marker("write")) == 1
    [child_run_id] = run["steps"][1]["child_run_ids"]
    child_run = await wait_for_run(api, child_run_id, "completed")
    assert child_run["steps"][0]["attempt"] == 2


async def log_of(process: WorkerProcess) -> str:
    return process.log()


async def test_a_restarted_temporal_server_loses_no_run(
    stub_llm: StubLLM, restartable_stack: RestartableStack
) -> None:
    stack = restartable_stack
    stub_llm.script(marker("a"), Reply("a done"))
    stub_llm.script(marker("c"), Reply("c done", delay=2))
    spec = {
        "agents": [agent()],
        "steps": [
            task("a"),
            {"id": "gate", "type": "approval", "after": ["a"], "message": "Go on?"},
            task("c", after=["gate"]),
        ],
    }
    run_id = (await start(stack, await create_workflow(stack, spec)))["run_id"]
    await wait_for_run(stack, run_id, "waiting_for_approval")

    await stack.restart_temporal()  # while the run waits at the gate
    await wait_for_run(stack, run_id, "waiting_for_approval")
    decided = await stack.http.post(
        f"/runs/{run_id}/steps/gate/decision", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    await eventually(lambda: calls(stub_llm, marker("c")), lambda n: n == 1)

    await stack.restart_temporal()  # while step c runs
    run = await wait_for_run(stack, run_id, "completed", timeout=90)
    assert [s["output"] for s in run["steps"] if s["type"] == "task"] == ["a done", "c done"]
    assert stub_llm.call_count(marker("a")) == 1
    assert stub_llm.call_count(marker("c")) <= 2  # c may be retried; a never


class RestartableStack:
    """The API and a worker process on a Temporal dev server that can be restarted on the
    same port and database file."""

    def __init__(self, tmp_path: Path, stub: StubLLM) -> None:
        self.tmp_path = tmp_path
        self.stub = stub
        self.port = free_port()
        self.db_file = tmp_path / "temporal.db"
        self.env: WorkflowEnvironment | None = None

    async def start_temporal(self) -> None:
        self.env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli()),
            dev_server_database_filename=str(self.db_file),
            port=self.port,
            data_converter=pydantic_data_converter,
            search_attributes=ALL_KEYS,
        )

    async def restart_temporal(self) -> None:
        assert self.env is not None
        await self.env.shutdown()
        await self.start_temporal()

    async def __aenter__(self) -> RestartableStack:
        await self.start_temporal()
        assert self.env is not None
        self.settings = stack_settings(
            self.env, self.tmp_path / "data", f"sqlite+aiosqlite:///{self.tmp_path / 'kasal.db'}"
        )
        self.server = ApiServer(self.settings)
        await self.server.start()
        token = await issue_token(self.settings, ADMIN_EMAIL, Role.ADMIN)
        self.http = httpx.AsyncClient(
            base_url=f"{self.server.url}/api/v1", timeout=30, headers=bearer(token)
        )
        response = await self.http.post(
            "/models",
            json={"name": STUB_MODEL, "model": "openai/x", "api_base": self.stub.url},
        )
        response.raise_for_status()
        self.worker = WorkerProcess(self.settings, self.tmp_path / "worker.log").start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.worker.stop()
        await self.http.aclose()
        await self.server.stop()
        if self.env is not None:
            await self.env.shutdown()


@pytest.fixture
async def restartable_stack(tmp_path: Path, stub_llm: StubLLM) -> AsyncIterator[RestartableStack]:
    async with RestartableStack(tmp_path, stub_llm) as stack:
        yield stack
