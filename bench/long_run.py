"""P5: one long run through the API: it completes, continues as new on the way, and the
worker's memory stays flat. Its steps are independent (max_parallel 64) and answer at
once, so the run is as long in steps as it can be in the time.

The worker's RSS is read from /proc: before the run, once a tenth of the steps had
called the LLM (CrewAI's caches and the run's state warmed up: the anchor), and at the
end. Flat means the end within FLAT_RATIO of the anchor.
"""

from __future__ import annotations

import asyncio
import os
import time

from temporalio.client import WorkflowExecutionStatus

from bench.report import Figure, ratio
from bench.stack import STEP_MARKER, Stack, spec_of

FLAT_RATIO = 1.10
# The most a definition may have (api/limits.py); the 10,000 wait for the reducer's
# settle to stop reading every step after every event (README, Benchmarks, P5).
DEFAULT_STEPS = 2000
MAX_PARALLEL = 64


async def p5(stack: Stack) -> Figure:
    steps = int(os.environ.get("KASAL_BENCH_P5_STEPS", str(DEFAULT_STEPS)))
    stack.llm_latency(0.0)
    spec = spec_of([(f"s{i}", []) for i in range(steps)], max_parallel=MAX_PARALLEL)
    workflow_id = await stack.create_workflow(spec)
    rss_before = stack.worker_rss_mb()
    started = time.perf_counter()
    run_id, _ = await stack.launch(workflow_id)
    result_task = asyncio.create_task(stack.run_handle(run_id).result())
    rss_anchor = None
    while not result_task.done():
        if rss_anchor is None and stack.stub.call_count(STEP_MARKER) >= steps // 10:
            rss_anchor = stack.worker_rss_mb()
        await asyncio.sleep(0.5)
    result = await result_task
    seconds = time.perf_counter() - started
    rss_end = stack.worker_rss_mb()
    rss_anchor = rss_anchor or rss_before
    executions = [e async for e in stack.client.list_workflows(f"WorkflowId = '{run_id}'")]
    continued = sum(e.status == WorkflowExecutionStatus.CONTINUED_AS_NEW for e in executions)
    completed = sum(step.status == "completed" for step in result.steps)
    calls = stack.stub.call_count(STEP_MARKER)
    growth = ratio(rss_end, rss_anchor)
    met = completed == steps and continued > 0 and growth <= FLAT_RATIO and calls == steps
    return Figure(
        case="P5",
        what=f"a {steps:,}-step run through the API (max_parallel {MAX_PARALLEL})",
        figure=(
            f"{completed}/{steps} completed, continued as new {continued}x; worker RSS end "
            f"{growth}x at 10% ({rss_anchor:g} → {rss_end:g} MB)"
        ),
        goal=f"completes, continues as new, RSS ≤ {FLAT_RATIO}x",
        met=met,
        details={
            "steps": steps,
            "steps_completed": completed,
            "llm_calls": calls,
            "continued_as_new": continued,
            "seconds": round(seconds, 1),
            "steps_per_second": round(steps / seconds, 1),
            "worker_rss_mb_before_run": rss_before,
            "worker_rss_mb_at_10_percent": rss_anchor,
            "worker_rss_mb_end": rss_end,
        },
    )
