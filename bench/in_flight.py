"""How many task steps one worker process holds in flight at once, measured at the stub.

The stub holds every step's LLM call open until all of them have arrived, then keeps them
open for twice the heartbeat timeout before answering. The peak number of calls open there
at the same moment is the number of steps the worker really had in flight; a call count
above the number of steps means some step missed its heartbeats and was retried.

The worker's event loop sends the heartbeats, so the bench also reports the longest time
that loop went without running (a garbage collection, the GIL held elsewhere): a stall
longer than the heartbeat timeout less a second would lose steps.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time

from bench.harness import Timer, bench_stack, new_id, plan_of
from tests.stub_llm import Reply
from worker.main import build_worker, freeze_startup_heap
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan import Plan
from workflows.task_activity import HEARTBEAT_TIMEOUT

STEPS = int(os.environ.get("KASAL_BENCH_STEPS", "1000"))
STEPS_PER_RUN = 1000  # a plan's max_parallel caps one run at 1,000 steps in flight
HOLD_SECONDS = 2 * HEARTBEAT_TIMEOUT.total_seconds()
STALL_PROBE_SECONDS = 0.05
# For every step's call to reach the stub, on a slow machine.
START_PATIENCE_SECONDS = 500.0


def independent_steps(count: int) -> Plan:
    return plan_of([(f"s{i}", []) for i in range(count)], max_parallel=count)


def run_sizes(steps: int) -> list[int]:
    return [min(STEPS_PER_RUN, steps - start) for start in range(0, steps, STEPS_PER_RUN)]


def peak_concurrency(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


async def longest_stall(stalls: list[float]) -> None:
    """Append how late each short sleep of this loop woke up, until cancelled."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(STALL_PROBE_SECONDS)
        stalls.append(time.monotonic() - before - STALL_PROBE_SECONDS)


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        bench.stub.script("STEP-", Reply("done", held=True))
        worker = build_worker(bench.env.client, new_id("bench"), bench.models, bench.blobs, STEPS)
        freeze_startup_heap()  # as `python -m worker` does
        stalls: list[float] = [0.0]
        probe = asyncio.create_task(longest_stall(stalls))
        async with worker:
            with Timer() as timer:
                handles = [
                    await bench.env.client.start_workflow(
                        AgentWorkflowV2.run,
                        AgentWorkflowV2Input(plan=independent_steps(size)),
                        id=new_id("in-flight"),
                        task_queue=worker.task_queue,
                    )
                    for size in run_sizes(STEPS)
                ]
                await asyncio.to_thread(
                    bench.stub.wait_for_calls, STEPS, "STEP-", START_PATIENCE_SECONDS
                )
                await asyncio.sleep(HOLD_SECONDS)
                bench.stub.release()
                results = [await handle.result() for handle in handles]
        probe.cancel()
        calls = bench.stub.calls()
        intervals = [(c.started_mono, c.finished_mono or c.started_mono) for c in calls]
        starts = [c.started_mono for c in calls]
        return {
            "steps": STEPS,
            "peak_in_flight_at_stub": peak_concurrency(intervals),
            "calls_at_stub": len(calls),
            "seconds_to_start_all": round(max(starts) - min(starts), 1),
            "seconds_all_held_open": HOLD_SECONDS,
            "runs": len(results),
            "steps_completed": sum(
                step.status == "completed" for result in results for step in result.steps
            ),
            "wall_seconds": round(timer.seconds, 1),
            "longest_loop_stall_seconds": round(max(stalls), 2),
            "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT.total_seconds(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            # The bench's process: the worker, and the stub beside it.
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
