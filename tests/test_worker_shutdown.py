"""SIGTERM stops a worker gracefully: the steps it holds finish and report within the grace
period, so nothing waits out a heartbeat timeout and nothing runs twice."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api_stack import ApiStack
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.worker_process import WorkerProcess

GRACE_SECONDS = 15
LLM_DELAY_SECONDS = 3


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # Shutdown is about Temporal and the worker; one database is enough here.
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


@pytest.fixture
def worker_process(
    api: ApiStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkerProcess]:
    # The process inherits the environment: a shorter grace than the default 30 s keeps
    # the test's bound tight.
    monkeypatch.setenv("KASAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS", str(GRACE_SECONDS))
    process = WorkerProcess(api.settings, tmp_path / "worker.log").start()
    yield process
    process.stop()


async def calls(stub: StubLLM, match: str) -> int:
    return stub.call_count(match)


async def test_sigterm_lets_the_step_in_flight_finish_and_report(
    api: ApiStack, stub_llm: StubLLM, worker_process: WorkerProcess
) -> None:
    await api.stop_worker()  # the step must run in the process that gets the signal
    stub_llm.script(marker("a"), Reply("a done", delay=LLM_DELAY_SECONDS))
    spec = {"agents": [agent()], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("a")), lambda n: n == 1, timeout=60)

    assert worker_process.process is not None
    worker_pid = worker_process.worker_pid()  # the supervisor passes the SIGTERM on to it
    signalled = time.monotonic()
    worker_process.process.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(worker_process.process.wait, GRACE_SECONDS)
    assert exit_code == 0, worker_process.log()
    assert time.monotonic() - signalled < GRACE_SECONDS
    # The LLM call was answered, not abandoned mid-way by the stopping worker...
    [call] = stub_llm.calls(marker("a"))
    assert call.status == 200 and not call.disconnected
    # ...and the terminating worker itself reported the step's result to Temporal.
    history = await api.env.client.get_workflow_handle(run_id).fetch_history()
    [completed] = [
        event.activity_task_completed_event_attributes
        for event in history.events
        if event.HasField("activity_task_completed_event_attributes")
    ]
    assert completed.identity.startswith(f"{worker_pid}@")

    # Another worker carries the run on at once; well within the 20 s heartbeat timeout
    # that an abandoned step would have waited out before running again.
    await api.start_worker()
    run = await wait_for_run(api, run_id, "completed", timeout=15)
    [step] = run["steps"]
    assert (step["output"], step["attempt"]) == ("a done", 1)
    assert stub_llm.call_count(marker("a")) == 1


async def test_a_step_outlasting_the_grace_is_cancelled_and_runs_again_elsewhere(
    api: ApiStack, stub_llm: StubLLM, worker_process: WorkerProcess
) -> None:
    await api.stop_worker()
    stub_llm.script(marker("a"), Reply.timeout(), Reply("a done"))
    spec = {"agents": [agent()], "steps": [task("a")]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    await eventually(lambda: calls(stub_llm, marker("a")), lambda n: n == 1, timeout=60)

    assert worker_process.process is not None
    signalled = time.monotonic()
    worker_process.process.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(worker_process.process.wait, GRACE_SECONDS + 10)
    assert exit_code == 0, worker_process.log()
    assert GRACE_SECONDS <= time.monotonic() - signalled < GRACE_SECONDS + 10

    await api.start_worker()
    run = await wait_for_run(api, run_id, "completed", timeout=15)
    [step] = run["steps"]
    assert (step["output"], step["attempt"]) == ("a done", 2)
    response = await api.http.get(f"/runs/{run_id}/steps/a/transcript")
    cancelled, passed = response.json()["attempts"]
    assert cancelled["error"] == "cancelled: worker shutdown"
    assert passed["error"] is None
