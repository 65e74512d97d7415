"""What a durable step costs over the same task in a plain, non-durable CrewAI crew.

Both answer from the stub LLM at once, so the time is all framework: for the crew,
building it and running it; for the step, Temporal scheduling the activity, the
activity building its agent and task, CrewAI running them, and the workflow recording
the result. Steps run one at a time (max_parallel 1), as the crews do.
"""

from __future__ import annotations

import os
import statistics

from crewai import LLM, Agent, Crew, Task

from bench.harness import AGENT, Timer, bench_stack, new_id, plan_of
from worker.main import build_worker
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input

TASKS = int(os.environ.get("KASAL_BENCH_TASKS", "30"))


async def plain_crew_seconds(stub_url: str, marker: str) -> float:
    """One task as a CrewAI user writes it, timed from building the crew to its answer."""
    with Timer() as timer:
        llm = LLM(model="openai/stub", base_url=stub_url, api_key="k", is_litellm=True)
        agent = Agent(role=AGENT["role"], goal=AGENT["goal"], backstory=AGENT["backstory"], llm=llm)
        task = Task(description=marker, expected_output="x", agent=agent)
        await Crew(agents=[agent], tasks=[task]).akickoff()
    return timer.seconds


async def main() -> dict[str, float]:
    async with bench_stack() as bench:
        await plain_crew_seconds(bench.stub.url, "STEP-WARM-UP")
        crew_seconds = [
            await plain_crew_seconds(bench.stub.url, f"STEP-CREW-{i}") for i in range(TASKS)
        ]
        worker = build_worker(bench.env.client, new_id("bench"), bench.models, bench.blobs, 100)
        async with worker:
            runs = []
            for size in (1, TASKS):  # the first run warms the worker up
                plan = plan_of([(f"s{i}", []) for i in range(size)], max_parallel=1)
                with Timer() as timer:
                    await bench.env.client.execute_workflow(
                        AgentWorkflowV2.run,
                        AgentWorkflowV2Input(plan=plan),
                        id=new_id("overhead"),
                        task_queue=worker.task_queue,
                    )
                runs.append(timer.seconds)
    return {
        "tasks": TASKS,
        "plain_crew_ms_per_task_median": round(1000 * statistics.median(crew_seconds), 1),
        "durable_step_ms_per_step": round(1000 * runs[-1] / TASKS, 1),
    }
