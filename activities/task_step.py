"""The ``run_task_step`` activity: one CrewAI agent doing one task, through litellm."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from crewai import Agent, Task
from crewai.tools import BaseTool
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.agent_executor import KasalAgentExecutor
from activities.budget_guard import BudgetGuard, max_completion_tokens, on_loop
from activities.call_limits import CallSlots
from activities.crew_runtime import CrewRuntime
from activities.egress import EgressRefused, check_url
from activities.heartbeat import heartbeating
from activities.journal import Scrubber, StepJournal
from activities.live_output import LiveOutput
from activities.llm_errors import classify, redact
from activities.llm_manager import KasalLLM, Transcript, build_llm
from activities.model_registry import ModelConfig, ModelRegistry, UnknownModel
from activities.pricing import prices_of
from activities.silent_worker import leave_silent_workers_queue
from activities.structured_output import (
    OutputSchemaMismatch,
    conform,
    expected_output_with_schema,
)
from activities.tools.agent_tools import agent_tools
from activities.tools.toolbox import ToolEnvironment, open_toolbox
from activities.usage_log import UsageLog, UsageOwner
from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND, AttemptRecord
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.live_tokens import LiveTokenStore
from db.model_limits import CallLimits, ModelLimiter
from db.monthly_budget import monthly_headroom
from workflows.task_step import (
    INLINE_OUTPUT_LIMIT,
    REQUEST_ALLOWANCE,
    RUN_TASK_STEP,
    Allowance,
    AllowanceRequest,
    RunTaskStepInput,
    RunTaskStepResult,
    preview,
)

# Leave the activity's own timeout to Temporal: the HTTP call gives up a little earlier
# so that the attempt fails with a clear timeout error rather than being cut off.
LLM_TIMEOUT_MARGIN = 0.9


class TaskStepActivities:
    def __init__(
        self,
        models: ModelRegistry,
        blobs: BlobStore,
        crew: CrewRuntime,
        journal: CallJournal,
        tools: ToolEnvironment,
    ) -> None:
        self._models = models
        self._blobs = blobs
        self._crew = crew
        self._journal = journal
        self._tools = tools
        self._limiter = ModelLimiter(blobs.sessions, blobs.writing)

    @activity.defn(name=RUN_TASK_STEP)
    async def run_task_step(self, input: RunTaskStepInput) -> RunTaskStepResult:
        """An activity because it calls an LLM: slow, flaky I/O that Temporal retries."""
        # Heartbeats start first and cover everything, storing the results included:
        # with hundreds of steps starting at once, no part may outlast the timeout.
        async with heartbeating():
            info = activity.info()
            started_at = datetime.now(UTC)
            transcript = Transcript(execution=_execution_of(info.activity_id))
            # Before the work, so that the reset lands before this attempt's completion.
            await leave_silent_workers_queue()
            try:
                result = await self._run(input, info.attempt, transcript)
            except asyncio.CancelledError:
                # Kept even when the run was cancelled, the step timed out or the worker
                # stopped: the calls it made so far are part of the story.
                await asyncio.shield(
                    self._keep_failed_attempt(input, started_at, transcript, _cancel_reason())
                )
                raise
            except ApplicationError as exc:
                await self._keep_failed_attempt(input, started_at, transcript, exc.message)
                raise
            except Exception as exc:
                error = redact(f"{type(exc).__name__}: {exc}", None)
                await self._keep_failed_attempt(input, started_at, transcript, error)
                raise
            # The attempt's record, its calls by reference, is the step's transcript.
            result.transcript_ref = await self._keep_attempt(
                input, started_at, transcript, error=None
            )
            return result

    async def _run(
        self, input: RunTaskStepInput, attempt: int, transcript: Transcript
    ) -> RunTaskStepResult:
        try:
            # Both reads before the first call, side by side: one wait, not two.
            config, monthly_left = await asyncio.gather(
                self._models.resolve(input.agent.llm, input.workspace),
                monthly_headroom(self._blobs.sessions, input.workspace),
            )
        except UnknownModel as exc:
            raise ApplicationError(
                str(exc), attempt, type="UnknownModel", non_retryable=True
            ) from None
        if config.api_base:
            # litellm connects by itself: its server is checked here, on every attempt.
            try:
                await check_url(config.api_base, self._tools.egress)
            except EgressRefused as exc:
                raise ApplicationError(
                    f"model config '{config.name}': {exc}", type="EgressRefused", non_retryable=True
                ) from None
        timeout = activity.info().start_to_close_timeout or timedelta(minutes=10)
        context = await self._whole_context(input)
        async with open_toolbox(input.tools, self._tools, input.run_id, input.step_id) as toolbox:
            journal = StepJournal(
                self._journal,
                asyncio.get_running_loop(),
                run_id=input.run_id,
                step_id=input.step_id,
                # A step that stopped over budget continues its journal: nothing paid twice.
                execution=input.journal_execution or _execution_of(activity.info().activity_id),
                attempt=attempt,
                scrub=Scrubber(toolbox.secrets + _key_of(config)),
            )
            llm = build_llm(
                config,
                transcript,
                timeout.total_seconds() * LLM_TIMEOUT_MARGIN,
                self._crew.loop,
                journal=journal,
                usage_log=UsageLog(
                    self._blobs,
                    asyncio.get_running_loop(),
                    UsageOwner(
                        workspace=input.workspace,
                        run_id=input.run_id,
                        step_id=input.step_id,
                        workflow_id=input.workflow_id,
                        workflow_name=input.workflow_name,
                        model_config_name=config.name,
                    ),
                ),
                with_tools=bool(toolbox.tools),
                budget=_budget_guard(input, config, attempt, monthly_left),
                live=LiveOutput(LiveTokenStore(self._blobs), asyncio.get_running_loop()),
                slots=CallSlots(
                    self._limiter,
                    CallLimits(input.workspace, config.name, config.max_concurrency, config.rpm),
                    timeout,
                    asyncio.get_running_loop(),
                ),
            )
            tools = agent_tools(toolbox.tools, journal, transcript, asyncio.get_running_loop())

            async def perform() -> str:
                agent, task = _agent_and_task(input, llm, tools)
                answer = str(await agent.aexecute_task(task, context=context or None))
                if input.output_schema is None:
                    return answer
                return await conform(answer, input.output_schema, task.description, llm.answer)

            try:
                output = await self._crew.run(perform)
            except asyncio.CancelledError:
                journal.close()
                llm.cancel_in_flight()
                for tool in tools:
                    tool.cancel_in_flight()
                raise
            except OutputSchemaMismatch as exc:
                # The model had its chance to repair: another attempt would ask again.
                raise ApplicationError(
                    str(exc), attempt, type="OutputSchemaMismatch", non_retryable=True
                ) from None
            except Exception as exc:
                if journal.failure is not None:
                    raise journal.failure from None
                raise classify(exc, config, attempt) from None
            if journal.failure is not None:  # CrewAI showed it to the agent as a tool error
                raise journal.failure
        output_ref = None
        if len(output.encode()) > INLINE_OUTPUT_LIMIT:
            output_ref = await self._store(input, "output", output)
            output = preview(output)
        return RunTaskStepResult(
            output=output,
            output_ref=output_ref,
            usage=transcript.usage,
            attempt=attempt,
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

    async def _keep_attempt(
        self,
        input: RunTaskStepInput,
        started_at: datetime,
        transcript: Transcript,
        error: str | None,
    ) -> str:
        """Store this attempt's record where the API finds it by run and step alone: how
        it ran and ended, and its calls by reference to the call journal."""
        info = activity.info()
        record = AttemptRecord(
            execution=_execution_of(info.activity_id),
            attempt=info.attempt,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            error=error,
            calls=transcript.calls,
        )
        return await self._store(input, ATTEMPT_TRANSCRIPT_KIND, record.model_dump_json())

    async def _keep_failed_attempt(
        self, input: RunTaskStepInput, started_at: datetime, transcript: Transcript, error: str
    ) -> None:
        """As ``_keep_attempt``, but the step's own failure is what Temporal must hear."""
        try:
            await self._keep_attempt(input, started_at, transcript, error)
        except Exception:
            activity.logger.warning(
                "could not store the failed attempt's transcript", exc_info=True
            )


def _budget_guard(
    input: RunTaskStepInput, config: ModelConfig, attempt: int, monthly_left: int | None
) -> BudgetGuard | None:
    """What stops the step before a call over its run's budget or its workspace's month;
    None with neither."""
    if input.allowance is None and monthly_left is None:
        return None
    run = activity.client().get_workflow_handle(input.run_id)
    execution = _execution_of(activity.info().activity_id)

    async def ask_for_more(needed: Allowance) -> Allowance | None:
        request = AllowanceRequest(step_id=input.step_id, execution=execution, needed=needed)
        granted: Allowance | None = await run.execute_update(
            REQUEST_ALLOWANCE, request, result_type=Allowance
        )
        return granted

    return BudgetGuard(
        input.allowance,
        on_loop(asyncio.get_running_loop(), ask_for_more),
        monthly_left=monthly_left,
        model=config.model,
        prices=prices_of(config),
        max_completion_tokens=max_completion_tokens(config),
        attempt=attempt,
    )


def _execution_of(activity_id: str) -> int:
    """The workflow names each execution of a step ``<step_id>#<execution>``.

    Read from the id because RunTaskStepInput does not carry the execution.
    """
    return int(activity_id.rpartition("#")[2])


def _cancel_reason() -> str:
    """Why the attempt was cancelled, as Temporal tells it: "cancelled: worker shutdown"."""
    details = activity.cancellation_details()
    if details is None:
        return "cancelled"
    reasons = [
        field.name.replace("_", " ")
        for field in dataclasses.fields(details)
        if getattr(details, field.name)
    ]
    return f"cancelled: {', '.join(reasons)}" if reasons else "cancelled"


def _key_of(config: ModelConfig) -> list[str]:
    return [config.api_key.get_secret_value()] if config.api_key is not None else []


def _agent_and_task(
    input: RunTaskStepInput, llm: KasalLLM, tools: Sequence[BaseTool]
) -> tuple[Agent, Task]:
    agent = Agent(
        role=input.agent.role,
        goal=input.agent.goal,
        backstory=input.agent.backstory,
        llm=llm,
        tools=list(tools),
        max_iter=input.agent.max_iter,
        # Temporal owns retries: CrewAI must not re-run a failed task on its own.
        max_retry_limit=0,
        allow_delegation=False,
        cache=False,
        verbose=False,
        executor_class=KasalAgentExecutor,
    )
    description = input.description
    if input.feedback:
        description += f"\n\nA reviewer sent your previous answer back: {input.feedback}"
    expected_output = input.expected_output
    if input.output_schema is not None:
        expected_output = expected_output_with_schema(expected_output, input.output_schema)
    task = Task(description=description, expected_output=expected_output, agent=agent)
    return agent, task
