"""How many task steps one worker process holds in flight at once, measured at the stub.

Every step's LLM call waits HOLD_SECONDS at the stub, so the peak number of calls open
there at the same moment is the number of steps the worker really has in flight.
"""

from __future__ import annotations

import os

from bench.harness import Timer, bench_stack, new_id, parallel_plan
from tests.stub_llm import Reply
from worker.main import build_worker
from workflows.agent_workflow import AgentWorkflow
from workflows.run_state import AgentWorkflowInput

STEPS = int(os.environ.get("KASAL_BENCH_STEPS", "1000"))
HOLD_SECONDS = 60.0  # longer than STEPS / the worker's start rate, so all overlap


def peak_concurrency(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, delta in edges:
        current += delta
        peak = max(peak, current)
    return peak


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        bench.stub.script("STEP-", Reply("done", delay=HOLD_SECONDS))
        worker = build_worker(bench.env.client, new_id("bench"), bench.models, bench.blobs, STEPS)
        async with worker:
            with Timer() as timer:
                await bench.env.client.execute_workflow(
                    AgentWorkflow.run,
                    AgentWorkflowInput(plan=parallel_plan(STEPS, max_parallel=STEPS)),
                    id=new_id("in-flight"),
                    task_queue=worker.task_queue,
                )
        calls = bench.stub.calls()
        intervals = [(c.started_mono, c.finished_mono or c.started_mono) for c in calls]
        return {
            "steps": STEPS,
            "peak_in_flight_at_stub": peak_concurrency(intervals),
            "wall_seconds": round(timer.seconds, 1),
            "llm_hold_seconds": HOLD_SECONDS,
        }
