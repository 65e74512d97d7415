"""How long a run takes to recover from a worker SIGKILLed mid-step.

The step in flight is retried once its heartbeat timeout notices the dead worker. The
numbers to watch: kill → the step's retried LLM call, and kill → run completed.
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import subprocess
import sys
import time

from bench.harness import Bench, bench_stack, new_id, plan_of
from tests.stub_llm import Reply
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input
from workflows.task_activity import HEARTBEAT_TIMEOUT

RUNS = 3


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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def one_recovery(bench: Bench) -> tuple[float, float]:
    bench.stub.reset()
    bench.stub.script("STEP-B", Reply.timeout(), Reply("b"))
    task_queue = new_id("recovery")
    plan = plan_of([("a", []), ("b", ["a"]), ("c", ["b"])])
    first = spawn_worker(bench, task_queue)
    handle = await bench.env.client.start_workflow(
        AgentWorkflowV2.run,
        AgentWorkflowV2Input(plan=plan),
        id=new_id("run"),
        task_queue=task_queue,
    )
    await asyncio.to_thread(bench.stub.wait_for_calls, 1, "STEP-B", 60)
    first.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    second = spawn_worker(bench, task_queue)
    try:
        await asyncio.to_thread(bench.stub.wait_for_calls, 2, "STEP-B", 120)
        retried = time.monotonic()
        await handle.result()
        done = time.monotonic()
    finally:
        second.terminate()
        second.wait()
        first.wait()
    return retried - killed, done - killed


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        samples = [await one_recovery(bench) for _ in range(RUNS)]
    return {
        "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT.total_seconds(),
        "kill_to_retry_seconds_median": round(statistics.median(s[0] for s in samples), 2),
        "kill_to_completed_seconds_median": round(statistics.median(s[1] for s in samples), 2),
        "runs": RUNS,
    }
