"""The ``run_task_step`` activity: one CrewAI agent doing one task, through litellm."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from crewai import Agent, Task
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.crew_runtime import CrewRuntime
from activities.heartbeat import heartbeating
from activities.llm_errors import classify
from activities.llm_manager import KasalLLM, Transcript, build_llm
from activities.model_registry import ModelRegistry, UnknownModel
from db.blobs import BlobStore
from workflows.task_step import (
    INLINE_OUTPUT_LIMIT,
    RUN_TASK_STEP,
    TRANSCRIPT_FORMAT,
    RunTaskStepInput,
    RunTaskStepResult,
    preview,
)

# Leave the activity's own timeout to Temporal: the HTTP call gives up a little earlier
# so that the attempt fails with a clear timeout error rather than being cut off.
LLM_TIMEOUT_MARGIN = 0.9


class TaskStepActivities:
    def __init__(self, models: ModelRegistry, blobs: BlobStore, crew: CrewRuntime) -> None:
        self._models = models
        self._blobs = blobs
        self._crew = crew

    @activity.defn(name=RUN_TASK_STEP)
    async def run_task_step(self, input: RunTaskStepInput) -> RunTaskStepResult:
        """An activity because it calls an LLM: slow, flaky I/O that Temporal retries."""
        # Heartbeats start first and cover everything, storing the results included:
        # with hundreds of steps starting at once, no part may outlast the timeout.
        async with heartbeating():
            return await self._run(input, activity.info().attempt)

    async def _run(self, input: RunTaskStepInput, attempt: int) -> RunTaskStepResult:
        try:
            config = await self._models.resolve(input.agent.llm)
        except UnknownModel as exc:
            raise ApplicationError(
                str(exc), attempt, type="UnknownModel", non_retryable=True
            ) from None
        transcript = Transcript()
        timeout = activity.info().start_to_close_timeout or timedelta(minutes=10)
        context = await self._whole_context(input)
        loop = self._crew.loop
        llm = build_llm(config, transcript, timeout.total_seconds() * LLM_TIMEOUT_MARGIN, loop)

        async def perform() -> str:
            agent, task = _agent_and_task(input, llm)
            return str(await agent.aexecute_task(task, context=context or None))

        try:
            output = await self._crew.run(perform)
        except asyncio.CancelledError:
            llm.cancel_in_flight()
            raise
        except Exception as exc:
            raise classify(exc, config, attempt) from None
        output_ref = None
        if len(output.encode()) > INLINE_OUTPUT_LIMIT:
            output_ref = await self._store(input, "output", output)
            output = preview(output)
        transcript_json = TRANSCRIPT_FORMAT.dump_json(transcript.entries).decode()
        return RunTaskStepResult(
            output=output,
            output_ref=output_ref,
            usage=transcript.usage,
            attempt=attempt,
            transcript_ref=await self._store(input, "transcript", transcript_json),
        )

    async def _whole_context(self, input: RunTaskStepInput) -> str:
        """Upstream outputs, with those that travelled by reference fetched whole."""
        refs = [c.output_ref for c in input.context if c.output_ref]
        whole = await self._blobs.get_many(refs) if refs else {}
        parts = []
        for context in input.context:
            text = whole.get(context.output_ref, "") if context.output_ref else context.output
            parts.append(f"Output of step '{context.step_id}':\n{text}")
        return "\n\n".join(parts)

    async def _store(self, input: RunTaskStepInput, kind: str, content: str) -> str:
        return await self._blobs.put(
            kind=kind, run_id=input.run_id, step_id=input.step_id, content=content
        )


def _agent_and_task(input: RunTaskStepInput, llm: KasalLLM) -> tuple[Agent, Task]:
    agent = Agent(
        role=input.agent.role,
        goal=input.agent.goal,
        backstory=input.agent.backstory,
        llm=llm,
        max_iter=input.agent.max_iter,
        # Temporal owns retries: CrewAI must not re-run a failed task on its own.
        max_retry_limit=0,
        allow_delegation=False,
        cache=False,
        verbose=False,
    )
    description = input.description
    if input.feedback:
        description += f"\n\nA reviewer sent your previous answer back: {input.feedback}"
    task = Task(description=description, expected_output=input.expected_output, agent=agent)
    return agent, task
