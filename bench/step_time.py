"""P1 and P2: what a durable step costs, against two anchors timed in the same run.

- the Kasal step: a run of N steps one after another (a chain), started through the API
  and run by `kasal worker` with its call journal and tracing on; per step, its time over N;
- bare Temporal: a workflow of N activities one after another, each making the same HTTP
  call to the same stub (bench/bare_worker.py); per activity, its time over N;
- a plain CrewAI crew: the same task built and kicked off, per task.

P1 at zero LLM latency (the time is all framework), P2 at 1 s (as a model answers).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid

from crewai import LLM, Agent, Crew, Task

from bench.bare_worker import BareRun
from bench.harness import AGENT, Timer
from bench.report import Figure, ms, ratio
from bench.stack import Stack, chain, spec_of

GOAL = 1.05


async def plain_crew_seconds(stub_url: str, marker: str) -> float:
    """One task as a CrewAI user writes it, timed from building the crew to its answer."""
    with Timer() as timer:
        llm = LLM(model="openai/stub", base_url=stub_url, api_key="k", is_litellm=True)
        agent = Agent(role=AGENT["role"], goal=AGENT["goal"], backstory=AGENT["backstory"], llm=llm)
        task = Task(description=marker, expected_output="x", agent=agent)
        await Crew(agents=[agent], tasks=[task]).akickoff()
    return timer.seconds


async def kasal_seconds_per_step(stack: Stack, workflow_id: str, steps: int) -> float:
    started = time.perf_counter()
    run_id, _ = await stack.launch(workflow_id)
    await stack.run_handle(run_id).result()
    return (time.perf_counter() - started) / steps


async def bare_seconds_per_step(stack: Stack, steps: int) -> float:
    started = time.perf_counter()
    await stack.client.execute_workflow(
        "BareWorkflow",
        BareRun(stack.stub.url, steps),
        id=f"bare-{uuid.uuid4()}",
        task_queue=stack.bare_task_queue,
    )
    return (time.perf_counter() - started) / steps


async def step_time(stack: Stack, case: str, latency: float, steps: int, rounds: int) -> Figure:
    stack.llm_latency(latency)
    workflow_id = await stack.create_workflow(spec_of(chain(steps), max_parallel=1))
    # One of each first, untimed: imports, connections and caches warm up.
    await kasal_seconds_per_step(stack, workflow_id, steps)
    await bare_seconds_per_step(stack, 1)
    await plain_crew_seconds(stack.stub.url, "STEP-WARM")
    kasal, bare, crew = [], [], []
    for round_ in range(rounds):  # interleaved, so load on the machine falls on all three
        kasal.append(await kasal_seconds_per_step(stack, workflow_id, steps))
        bare.append(await bare_seconds_per_step(stack, steps))
        crew.append(await plain_crew_seconds(stack.stub.url, f"STEP-CREW-{round_}"))
    kasal_s, bare_s, crew_s = (statistics.median(x) for x in (kasal, bare, crew))
    against_bare = ratio(kasal_s, bare_s)
    return Figure(
        case=case,
        what=f"step time at {latency:g} s LLM latency (journal and tracing on)",
        figure=f"{against_bare}x bare activity, {ratio(kasal_s, crew_s)}x plain crew",
        goal=f"≤ {GOAL}x bare activity",
        met=against_bare <= GOAL,
        details={
            "llm_latency_seconds": latency,
            "steps_per_run": steps,
            "rounds": rounds,
            "kasal_ms_per_step": ms(kasal_s),
            "bare_activity_ms_per_step": ms(bare_s),
            "plain_crew_ms_per_task": ms(crew_s),
            "ratio_to_bare_activity": against_bare,
            "ratio_to_plain_crew": ratio(kasal_s, crew_s),
        },
    )


async def p1(stack: Stack) -> Figure:
    steps = int(os.environ.get("KASAL_BENCH_P1_STEPS", "20"))
    return await step_time(stack, "P1", 0.0, steps, int(os.environ.get("KASAL_BENCH_ROUNDS", "3")))


async def p2(stack: Stack) -> Figure:
    steps = int(os.environ.get("KASAL_BENCH_P2_STEPS", "5"))
    return await step_time(stack, "P2", 1.0, steps, int(os.environ.get("KASAL_BENCH_ROUNDS", "3")))
