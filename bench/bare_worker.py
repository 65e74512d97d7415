"""The anchor: bare Temporal, a worker process whose workflow runs N activities one after
another, each making the LLM call a step makes (the same HTTP request to the same stub)
and nothing else: no CrewAI, no call journal, no tracing, no pacing. The SDK's
defaults otherwise (its sandboxed workflow runner too).

Usage: python -m bench.bare_worker TEMPORAL_ADDRESS TASK_QUEUE
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    import httpx

# As the Kasal worker's default (KASAL_MAX_CONCURRENT_ACTIVITIES).
MAX_CONCURRENT_ACTIVITIES = 2000


@dataclass
class LlmCall:
    api_base: str
    prompt: str


@dataclass
class BareRun:
    api_base: str
    steps: int


_http: httpx.AsyncClient | None = None


@activity.defn
async def call_llm(call: LlmCall) -> str:
    global _http
    _http = _http or httpx.AsyncClient(timeout=600)
    response = await _http.post(
        f"{call.api_base}/chat/completions",
        headers={"Authorization": "Bearer k"},
        json={"model": "stub", "messages": [{"role": "user", "content": call.prompt}]},
    )
    response.raise_for_status()
    return str(response.json()["choices"][0]["message"]["content"])


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, run: BareRun) -> int:
        for i in range(run.steps):
            await workflow.execute_activity(
                call_llm,
                LlmCall(run.api_base, f"STEP-BARE-{i}"),
                start_to_close_timeout=timedelta(minutes=10),
            )
        return run.steps


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[call_llm],
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
