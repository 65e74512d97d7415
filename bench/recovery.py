"""How long a run takes to recover from a worker SIGKILLed mid-step.

The step in flight is retried once its heartbeat timeout notices the dead worker, on
whichever worker polls the queue. A worker runs as `python -m worker` does: a supervisor
with the modules loaded, and the worker its forked child (worker/supervisor.py). Three
cases, three runs each:

- ``standby``: another worker is already polling when the first (supervisor and all) is
  killed, as with two workers deployed. The kill comes just after the step's heartbeat
  reached the server (read from the server), so the timeout runs in full: the worst case.
- ``respawn``: the only worker process is killed and its supervisor forks another, as
  when the OOM killer or a crash in native code takes the worker. The fork's start-up
  runs alongside the timeout, and the longer of the two decides.
- ``cold``: the only worker is killed with its supervisor, and a new process is started
  at that moment, as compose or Kubernetes would: a start-up importing CrewAI and
  litellm again runs alongside the timeout.

The numbers to watch: kill → the step's retried LLM call (at the stub), kill → run
completed, and the finished steps that ran again (calls to a step beyond one; must be 0).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

from temporalio.client import WorkflowHandle

from bench.harness import Bench, bench_stack, new_id, plan_of
from bench.worker_process import READY
from tests.stub_llm import Reply
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input
from workflows.task_activity import HEARTBEAT_TIMEOUT, heartbeat_timeout

RUNS = int(os.environ.get("KASAL_BENCH_RECOVERY_RUNS", "3"))


def spawn_worker(bench: Bench, task_queue: str) -> subprocess.Popen[bytes]:
    address = bench.env.client.service_client.config.target_host
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.worker_process",
            address,
            task_queue,
            bench.stub.url,
            bench.database_url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


async def polling(supervisor: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Wait until a worker of this supervisor polls: its pid, and how long its start-up
    took from now."""
    started = time.monotonic()
    assert supervisor.stdout is not None
    while line := (await asyncio.to_thread(supervisor.stdout.readline)).decode():
        if line.startswith(READY):
            return int(line.split()[-1]), time.monotonic() - started
    raise RuntimeError("the bench worker exited before polling")


async def after_next_heartbeat(handle: WorkflowHandle[Any, Any]) -> None:
    """Return just after the server records the running step's next heartbeat."""

    async def last_heartbeat() -> float | None:
        pending = (await handle.describe()).raw_description.pending_activities
        return pending[0].last_heartbeat_time.ToDatetime().timestamp() if pending else None

    seen = await last_heartbeat()
    for _ in range(int(3 * HEARTBEAT_TIMEOUT.total_seconds() / 0.05)):
        if await last_heartbeat() != seen:
            return
        await asyncio.sleep(0.05)


async def one_recovery(bench: Bench, case: str) -> dict[str, float]:
    bench.stub.reset()
    bench.stub.script("STEP-A", Reply("a"))
    bench.stub.script("STEP-B", Reply.timeout(), Reply("b"))
    bench.stub.script("STEP-C", Reply("c"))
    task_queue = new_id("recovery")
    plan = plan_of([("a", []), ("b", ["a"]), ("c", ["b"])])
    first = spawn_worker(bench, task_queue)
    second: subprocess.Popen[bytes] | None = None
    sample: dict[str, float] = {}
    try:
        first_worker, _ = await polling(first)
        handle = await bench.env.client.start_workflow(
            AgentWorkflowV2.run,
            AgentWorkflowV2Input(plan=plan),
            id=new_id("run"),
            task_queue=task_queue,
        )
        await asyncio.to_thread(bench.stub.wait_for_calls, 1, "STEP-B", 60)
        if case == "standby":  # B runs on the first worker; the second starts only now
            second = spawn_worker(bench, task_queue)
            await polling(second)
            await after_next_heartbeat(handle)
        if case == "respawn":  # the worker alone: its supervisor forks another
            os.kill(first_worker, signal.SIGKILL)
        else:
            first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        if case == "respawn":
            sample["start_up_seconds"] = (await polling(first))[1]
        elif case == "cold":
            second = spawn_worker(bench, task_queue)
            sample["start_up_seconds"] = (await polling(second))[1]
        calls = await asyncio.to_thread(bench.stub.wait_for_calls, 2, "STEP-B", 120)
        sample["kill_to_retry"] = calls[1].started_mono - killed  # the stub's clock is ours
        await handle.result()
        sample["kill_to_completed"] = time.monotonic() - killed
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.kill()
                worker.wait()
    # A finished before the crash and C after the retry: each must have been called once.
    sample["rerun"] = sum(max(bench.stub.call_count(s) - 1, 0) for s in ("STEP-A", "STEP-C"))
    return sample


def summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return round(statistics.median(s[key] for s in samples), 2)

    result: dict[str, Any] = {
        "kill_to_retry_seconds_median": median("kill_to_retry"),
        "kill_to_retry_seconds": [round(s["kill_to_retry"], 2) for s in samples],
        "kill_to_completed_seconds_median": median("kill_to_completed"),
        "finished_steps_rerun": int(sum(s["rerun"] for s in samples)),
    }
    if "start_up_seconds" in samples[0]:
        result["worker_start_up_seconds_median"] = median("start_up_seconds")
    return result


async def main() -> dict[str, Any]:
    async with bench_stack() as bench:
        cases = {
            case: [await one_recovery(bench, case) for _ in range(RUNS)]
            for case in ("standby", "respawn", "cold")
        }
    return {
        # The plan's own: a run as small as this one gets the short timeout.
        "heartbeat_timeout_seconds": heartbeat_timeout(plan_of([("a", [])])).total_seconds(),
        **{case: summary(samples) for case, samples in cases.items()},
        "runs": RUNS,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
