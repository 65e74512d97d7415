"""The ``run_task_step`` activity: one CrewAI agent doing one task, through litellm."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from crewai import Agent, Task
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from activities.llm_errors import classify
from activities.llm_manager import Transcript, build_llm
from activities.model_registry import ModelRegistry, UnknownModel
from workflows.task_step import RUN_TASK_STEP, RunTaskStepInput, RunTaskStepResult

# Leave the activity's own timeout to Temporal: the HTTP call gives up a little earlier
# so that the attempt fails with a clear timeout error rather than being cut off.
LLM_TIMEOUT_MARGIN = 0.9


class TaskStepActivities:
    def __init__(self, models: ModelRegistry) -> None:
        self._models = models

    @activity.defn(name=RUN_TASK_STEP)
    async def run_task_step(self, input: RunTaskStepInput) -> RunTaskStepResult:
        """An activity because it calls an LLM: slow, flaky I/O that Temporal retries."""
        info = activity.info()
        try:
            config = await self._models.resolve(input.agent.llm)
        except UnknownModel as exc:
            raise ApplicationError(
                str(exc), info.attempt, type="UnknownModel", non_retryable=True
            ) from None
        transcript = Transcript()
        timeout = info.start_to_close_timeout or timedelta(minutes=10)
        llm = build_llm(config, transcript, timeout.total_seconds() * LLM_TIMEOUT_MARGIN)
        async with heartbeating():
            try:
                output = await _perform(input, llm)
            except asyncio.CancelledError:
                llm.cancel_in_flight()
                raise
            except ApplicationError:
                raise
            except Exception as exc:
                raise classify(exc, config, info.attempt) from None
        return RunTaskStepResult(
            output=output,
            usage=transcript.usage,
            attempt=info.attempt,
            transcript=transcript.entries,
        )


async def _perform(input: RunTaskStepInput, llm: object) -> str:
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
    result = await agent.aexecute_task(task, context=_context_text(input) or None)
    return str(result)


def _context_text(input: RunTaskStepInput) -> str:
    return "\n\n".join(f"Output of step '{c.step_id}':\n{c.output}" for c in input.context)
