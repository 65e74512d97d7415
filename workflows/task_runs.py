"""Running a task step from the workflow: one execution of the ``run_task_step`` activity
(activities/task_step.py), with the retries, timeouts and heartbeats Temporal owns, and
the event that says how it ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.workflow import ActivityCancellationType

from workflows.engine.events import RunEvent, StartTask, TaskFailed, TaskSucceeded
from workflows.engine.state import RunData
from workflows.plan import Plan, PlanTaskStep
from workflows.task_activity import (
    activity_id,
    activity_summary,
    attempts_used,
    failure_message,
    heartbeat_timeout,
    retry_policy,
    stopped_over_budget,
)
from workflows.task_step import RUN_TASK_STEP, RunTaskStepInput, RunTaskStepResult, StepContext

# A step's activity task cancelled by the run (closing) reports as a cancelled failure.
# Before this patch the task ended with asyncio's CancelledError and reported nothing:
# the step stayed running, and a closing run waited for it for good.
CANCELLED_TASK_REPORTED = "cancelled-task-reported"


async def run_task(plan: Plan, step: PlanTaskStep, run: RunData, command: StartTask) -> RunEvent:
    """Run one execution of a task step as the ``run_task_step`` activity; the event that
    says how it ended (cancelled by the run, too)."""
    step_id, execution = command.step_id, command.execution
    agent = plan.agents[step.agent]
    try:
        result = await workflow.execute_activity(
            RUN_TASK_STEP,
            RunTaskStepInput(
                run_id=workflow.info().workflow_id,
                step_id=step_id,
                agent=agent,
                description=step.description,
                expected_output=step.expected_output,
                context=context_for(step, run),
                feedback=run.feedback.get(step_id),
                tools=[plan.tools[name] for name in agent.tools],
                workspace=plan.meta.workspace,
                workflow_id=plan.meta.workflow_id,
                workflow_name=plan.meta.workflow_name,
                output_schema=step.output_schema,
                allowance=command.allowance,
                journal_execution=command.journal_execution,
            ),
            result_type=RunTaskStepResult,
            activity_id=activity_id(step_id, execution),
            start_to_close_timeout=timedelta(seconds=step.timeout_seconds),
            heartbeat_timeout=heartbeat_timeout(plan),
            retry_policy=retry_policy(step),
            # A closing run waits until the step has really stopped.
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=activity_summary(agent, step, content_free=plan.meta.content_free_summaries),
        )
    except ActivityError as err:
        spent = stopped_over_budget(err)
        event: RunEvent = TaskFailed(
            at=workflow.now(),
            step_id=step_id,
            execution=execution,
            error=failure_message(err),
            attempts=attempts_used(err, step),
            cancelled=isinstance(err.cause, TemporalCancelledError),
            over_budget=spent is not None,
            usage=spent,
        )
    except asyncio.CancelledError:
        # The run cancelled the task (CancelTask): the activity has stopped, as
        # WAIT_CANCELLATION_COMPLETED waits for, or it was never sent to start.
        if not workflow.patched(CANCELLED_TASK_REPORTED):
            raise
        event = TaskFailed(
            at=workflow.now(),
            step_id=step_id,
            execution=execution,
            error="cancelled",
            attempts=1,
            cancelled=True,
        )
    else:
        event = TaskSucceeded(
            at=workflow.now(),
            step_id=step_id,
            execution=execution,
            output=result.output,
            output_ref=result.output_ref,
            usage=result.usage,
            attempts=result.attempt,
            transcript_ref=result.transcript_ref,
        )
    return event


def context_for(step: PlanTaskStep, run: RunData) -> list[StepContext]:
    """What the task reads of its upstream steps: given context, then their outputs."""
    given = [StepContext(**context.model_dump()) for context in step.given_context]
    return given + [
        StepContext(step_id=upstream, output=state.output, output_ref=state.output_ref)
        for upstream in step.context_from
        if (state := run.steps[upstream]).output is not None
    ]
