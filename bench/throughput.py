"""P3: N one-step runs started at once through the API, one worker process, the LLM
answering in 1 s; runs completed a second against bare Temporal's K one-activity
workflows started the same way (all at once, by the client) on the same server.

Where the time goes is reported beside the figure: how long the API took to answer all
the starts, at what rate the steps' LLM calls reached the stub (as fast as the
worker's loops keep up, worker/step_slots.py), and the CPU a run cost each process
(bench/cpu.py), with the rate those costs allow on this machine's cores. Beside them,
the CPU of the same task kicked off in a plain CrewAI crew: a worker process that did
only bare Temporal's work and that crew per run could not go faster than one core over
their sum (``crew_worker_allows_runs_per_second``), whatever else it saved.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable

from bench.bare_worker import BareRun
from bench.cpu import CpuMeter, child_named
from bench.report import Figure, ms, ratio
from bench.stack import STEP_MARKER, Stack, spec_of
from bench.step_time import plain_crew_seconds

GOAL = 0.8
LATENCY = 1.0
# The size. A worker takes on only the steps its loops keep up with
# (worker/step_slots.py); before, it took all 1,000, missed their heartbeats, and most
# runs paused after three attempts.
DEFAULT_RUNS = 1000
# A run that pauses (its step out of attempts) never completes: wait no longer than this.
PATIENCE_SECONDS = 300.0


async def completed(waits: list[Awaitable[object]]) -> int:
    """How many of ``waits`` finish without error within PATIENCE_SECONDS."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    done, pending = await asyncio.wait(tasks, timeout=PATIENCE_SECONDS)
    for task in pending:
        task.cancel()
    return sum(task.exception() is None for task in done)


def call_rate(stack: Stack, marker: str) -> float:
    """LLM calls a second at the stub, from the first call's arrival to the last's."""
    starts = sorted(call.started_mono for call in stack.stub.calls(marker))
    return round((len(starts) - 1) / (starts[-1] - starts[0]), 1) if len(starts) > 1 else 0.0


def temporal_server() -> dict[str, int]:
    """The dev server's pid, by name, among this process's children (the SDK starts it)."""
    pid = child_named("temporal")
    return {} if pid is None else {"temporal_server": pid}


async def kasal_runs(stack: Stack, runs: int) -> dict[str, float]:
    stack.llm_latency(LATENCY)
    workflow_id = await stack.create_workflow(spec_of([("only", [])]))
    retries_before = stack.launch_retries
    cpu = CpuMeter({"api": stack.api.pid, "worker": stack.worker_pid} | temporal_server())
    started = time.perf_counter()
    launched = await asyncio.gather(*(stack.launch(workflow_id) for _ in range(runs)))
    all_started = time.perf_counter() - started
    done = await completed([stack.run_handle(run_id).result() for run_id, _ in launched])
    wall = time.perf_counter() - started
    return {
        "runs": runs,
        "completed": done,
        "seconds": round(wall, 1),
        "runs_per_second": round(done / wall, 1),
        "seconds_until_all_started": round(all_started, 1),
        "launches_sent_again": stack.launch_retries - retries_before,
        "llm_calls_per_second_at_stub": call_rate(stack, STEP_MARKER),
        # Over 1, steps were asked again: attempts timed out (missed heartbeats) mid-call.
        "llm_calls_per_run": round(len(stack.stub.calls(STEP_MARKER)) / runs, 2),
        **cpu.per_run(done),
    }


async def bare_runs(stack: Stack, runs: int) -> dict[str, float]:
    stack.llm_latency(LATENCY)
    cpu = CpuMeter({"worker": stack.bare_worker.pid} | temporal_server())
    started = time.perf_counter()
    handles = await asyncio.gather(
        *(
            stack.client.start_workflow(
                "BareWorkflow",
                BareRun(stack.stub.url, 1),
                id=f"bare-{uuid.uuid4()}",
                task_queue=stack.bare_task_queue,
            )
            for _ in range(runs)
        )
    )
    all_started = time.perf_counter() - started
    done = await completed([handle.result() for handle in handles])
    wall = time.perf_counter() - started
    return {
        "runs": runs,
        "completed": done,
        "seconds": round(wall, 1),
        "runs_per_second": round(done / wall, 1),
        "seconds_until_all_started": round(all_started, 1),
        "llm_calls_per_second_at_stub": call_rate(stack, STEP_MARKER),
        **cpu.per_run(done),
    }


async def plain_crew_cpu_seconds(stack: Stack, tasks: int = 20) -> float:
    """CPU seconds of this process per task kicked off in a plain CrewAI crew, the LLM
    answering at once (the stub's own share of it, in this process, is about a ms)."""
    stack.llm_latency(0.0)
    await plain_crew_seconds(stack.stub.url, f"{STEP_MARKER}CREW-WARM")
    started = time.process_time()
    for index in range(tasks):
        await plain_crew_seconds(stack.stub.url, f"{STEP_MARKER}CREW-{index}")
    return (time.process_time() - started) / tasks


async def p3(stack: Stack) -> Figure:
    runs = int(os.environ.get("KASAL_BENCH_P3_RUNS", str(DEFAULT_RUNS)))
    crew_cpu_ms = ms(await plain_crew_cpu_seconds(stack))
    bare = await bare_runs(stack, runs)
    kasal = await kasal_runs(stack, runs)
    against_bare = ratio(kasal["runs_per_second"], bare["runs_per_second"])
    crew_worker_ms = bare["worker_cpu_ms_per_run"] + crew_cpu_ms
    all_completed = kasal["completed"] == runs and bare["completed"] == runs
    return Figure(
        case="P3",
        what=f"{runs} one-step runs at once through the API, 1 worker, 1 s LLM latency",
        figure=f"{against_bare}x bare Temporal's throughput; all completed: {all_completed}",
        goal=f"≥ {GOAL}x bare, all complete",
        met=against_bare >= GOAL and all_completed,
        details={
            "kasal": kasal,
            "bare_temporal": bare,
            "ratio_to_bare": against_bare,
            "plain_crew_cpu_ms_per_task": crew_cpu_ms,
            "crew_worker_allows_runs_per_second": round(1000 / crew_worker_ms, 1),
            "crew_worker_allows_ratio_to_bare": ratio(
                1000 / crew_worker_ms, bare["runs_per_second"]
            ),
        },
    )
