"""P4 and the load check: how long `POST /runs` takes to answer with the run started.

P4, unloaded: one launch at a time, each run left to finish before the next, against a
raw ``client.start_workflow`` of the same workflow (AgentWorkflowV2, the same plan) by
the API's own kind of client, on the same queue, timed the same way. Beside them, the
cheapest request (``GET /auth/config``: HTTP, the middleware, no database) and the
cheapest authenticated one (``GET /me``): what any call to the API pays before a launch
does anything of its own. No launch through HTTP is faster than the cheapest request
and a raw start together (``http_floor_ratio``).

Load check (issue 13, point 10): launches at an even pace (500 in 10 s), each sent on
time whether or not the ones before were answered; none may fail and none be lost (every
run answered exists in Temporal and completes).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from temporalio.service import RPCError

from bench.report import Figure, median_ms, ms, percentile, ratio
from bench.stack import Stack, spec_of
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input

GOAL = 1.3
PATIENCE_SECONDS = 120.0
ONE_STEP: list[tuple[str, list[str]]] = [("only", [])]


async def raw_start_seconds(stack: Stack, run_input: AgentWorkflowV2Input) -> float:
    started = time.perf_counter()
    handle = await stack.client.start_workflow(
        AgentWorkflowV2.run,
        run_input,
        id=f"raw-{uuid.uuid4()}",
        task_queue=stack.settings.KASAL_TASK_QUEUE,
    )
    seconds = time.perf_counter() - started
    await handle.result()
    return seconds


async def api_start_seconds(stack: Stack, workflow_id: str) -> float:
    run_id, seconds = await stack.launch(workflow_id)
    await stack.run_handle(run_id).result()
    return seconds


async def get_seconds(stack: Stack, url: str) -> float:
    started = time.perf_counter()
    response = await stack.http.get(url)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    return seconds


async def p4(stack: Stack) -> Figure:
    samples = int(os.environ.get("KASAL_BENCH_P4_STARTS", "40"))
    stack.llm_latency(0.0)
    spec = spec_of(ONE_STEP)
    workflow_id = await stack.create_workflow(spec)
    run_input = AgentWorkflowV2Input(plan=compile_plan(spec, {}, {"stub"}))
    await api_start_seconds(stack, workflow_id)  # warm-up, untimed
    await raw_start_seconds(stack, run_input)
    api, raw, cheapest, authenticated = [], [], [], []
    for _ in range(samples):  # interleaved, so load on the machine falls on all four
        api.append(await api_start_seconds(stack, workflow_id))
        raw.append(await raw_start_seconds(stack, run_input))
        cheapest.append(await get_seconds(stack, f"{stack.base_url}/auth/config"))
        authenticated.append(await get_seconds(stack, "/me"))
    against_raw = ratio(percentile(api, 50), percentile(raw, 50))
    raw_p50 = percentile(raw, 50)
    return Figure(
        case="P4",
        what="POST /runs → workflow started, p50, unloaded",
        figure=f"{against_raw}x raw client.start_workflow",
        goal=f"≤ {GOAL}x raw start",
        met=against_raw <= GOAL,
        details={
            "samples": samples,
            "api_start_ms_p50": median_ms(api),
            "api_start_ms_p99": ms(percentile(api, 99)),
            "raw_start_ms_p50": median_ms(raw),
            "raw_start_ms_p99": ms(percentile(raw, 99)),
            "cheapest_get_ms_p50": median_ms(cheapest),
            "authenticated_get_me_ms_p50": median_ms(authenticated),
            "http_floor_ratio": ratio(percentile(cheapest, 50) + raw_p50, raw_p50),
            "ratio_p50": against_raw,
        },
    )


async def load_check(stack: Stack) -> Figure:
    launches = int(os.environ.get("KASAL_BENCH_LOAD_RUNS", "500"))
    window = float(os.environ.get("KASAL_BENCH_LOAD_SECONDS", "10"))
    stack.llm_latency(0.0)
    workflow_id = await stack.create_workflow(spec_of(ONE_STEP))
    # Unloaded anchor: what one launch takes alone, the figure the loaded ones compare to.
    alone = [(await stack.launch(workflow_id))[1] for _ in range(5)]
    retries_before = stack.launch_retries
    started = time.perf_counter()

    async def paced(index: int) -> tuple[str | None, float, str | None]:
        await asyncio.sleep(max(0.0, started + index * window / launches - time.perf_counter()))
        try:
            run_id, seconds = await stack.launch(workflow_id)
            return run_id, seconds, None
        except Exception as error:  # a failed launch is the figure, not the bench's end
            return None, 0.0, f"{type(error).__name__}: {error}"[:200]

    outcomes = await asyncio.gather(*(paced(i) for i in range(launches)))
    sent_seconds = time.perf_counter() - started
    failed = [error for _, _, error in outcomes if error is not None]
    run_ids = [run_id for run_id, _, _ in outcomes if run_id is not None]
    latencies = [seconds for run_id, seconds, _ in outcomes if run_id is not None]
    lost, unfinished = await _lost_and_unfinished(stack, run_ids)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    alone_p50 = percentile(alone, 50)
    return Figure(
        case="load",
        what=f"{launches} run launches in {window:g} s through the API",
        figure=(
            f"{len(failed)} failed, {lost} lost, {unfinished} not completed; "
            f"start p50 {ratio(p50, alone_p50)}x, p99 {ratio(p99, alone_p50)}x an unloaded launch"
        ),
        goal="0 failed, 0 lost",
        met=not failed and lost == 0,
        details={
            "launches": launches,
            "window_seconds": window,
            "seconds_to_send_all": round(sent_seconds, 1),
            "failed": len(failed),
            "failures": failed[:5],
            "launches_sent_again": stack.launch_retries - retries_before,
            "lost": lost,
            "not_completed_within_seconds": {str(int(PATIENCE_SECONDS)): unfinished},
            "start_ms_p50": ms(p50),
            "start_ms_p99": ms(p99),
            "unloaded_start_ms_p50": ms(alone_p50),
        },
    )


async def _lost_and_unfinished(stack: Stack, run_ids: list[str]) -> tuple[int, int]:
    """Runs answered as started that Temporal does not have (lost), and runs that did not
    complete within PATIENCE_SECONDS (unfinished)."""
    semaphore = asyncio.Semaphore(100)

    async def exists(run_id: str) -> bool:
        async with semaphore:
            try:
                await stack.run_handle(run_id).describe()
                return True
            except RPCError:
                return False

    async def completes(run_id: str) -> None:
        await stack.run_handle(run_id).result()

    found = await asyncio.gather(*(exists(r) for r in run_ids))
    # One deadline for all: a run that paused (its step out of attempts) never completes.
    waits = [
        asyncio.ensure_future(completes(r)) for r, ok in zip(run_ids, found, strict=True) if ok
    ]
    done, pending = await asyncio.wait(waits, timeout=PATIENCE_SECONDS) if waits else (set(), set())
    for wait in pending:
        wait.cancel()
    return found.count(False), len(pending) + sum(w.exception() is not None for w in done)
