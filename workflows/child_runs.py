"""Running a step's child run from the workflow: a map's chunk, a loop's iteration or a
sub-workflow, each a whole ``AgentWorkflowV2`` run (workflows/children.py builds its
plan), and telling a parent run when a child's status changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.workflow import ChildWorkflowCancellationType

from workflows.children import CHILD_STATUS_SIGNAL, ChildStatus, child_plan, child_run_id
from workflows.compiler import CompilationFailed
from workflows.engine.events import ChildFinished, ChildOutcome, ChildStarted, RunEvent, StartChild
from workflows.engine.state import AgentWorkflowV2Input, RunData
from workflows.plan import AnyPlanStep, Plan, RunMeta
from workflows.run_launch import run_search_attributes, run_summary
from workflows.run_state import AgentWorkflowResult
from workflows.status import RunStatus
from workflows.task_activity import failure_message
from workflows.task_step import TokenUsage

# The workflow type every run, and so every child run, runs on.
RUN_WORKFLOW = "AgentWorkflowV2"


async def run_child(
    plan: Plan,
    step: AnyPlanStep,
    command: StartChild,
    run: RunData,
    feed: Callable[[RunEvent], object],
) -> ChildFinished:
    """Start the child (fed as ``ChildStarted``), wait for it, and say how it ended.
    Cancelled by a closing parent, it cancels the child and waits until it has stopped."""
    parent_id = workflow.info().workflow_id
    child_id = child_run_id(parent_id, command.step_id, command.execution)
    outcome: ChildOutcome = "completed"
    outputs: dict[str, str] = {}
    output_refs: dict[str, str] = {}
    usage = TokenUsage()
    final_output = error = ""
    try:
        child = child_plan(plan, step, command, run, parent_id)
        feed(
            ChildStarted(
                at=workflow.now(),
                step_id=command.step_id,
                execution=command.execution,
                child_run_id=child_id,
            )
        )
        result = await workflow.execute_child_workflow(
            RUN_WORKFLOW,
            AgentWorkflowV2Input(plan=child),
            result_type=AgentWorkflowResult,
            id=child_id,
            task_queue=workflow.info().task_queue,
            search_attributes=run_search_attributes(child.meta, workflow.now()),
            cancellation_type=ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
            static_summary=f"{command.step_id} of {run_summary(plan.meta)}",
        )
    except CompilationFailed as failed:
        outcome, error = "failed", str(failed)
    except ChildWorkflowError as err:
        cancelled = isinstance(err.cause, TemporalCancelledError)
        outcome = "cancelled" if cancelled else "failed"
        error = failure_message(err)
    except asyncio.CancelledError:
        outcome, error = "cancelled", "cancelled"
    else:
        outcome = "rejected" if result.outcome == "rejected" else "completed"
        outputs, final_output = result.outputs_by_step(), result.final_output
        output_refs = result.output_refs_by_step()
        usage = result.usage()
    return ChildFinished(
        at=workflow.now(),
        step_id=command.step_id,
        execution=command.execution,
        outcome=outcome,
        outputs=outputs,
        output_refs=output_refs,
        final_output=final_output,
        usage=usage,
        error=error,
    )


async def tell_parent(meta: RunMeta, status: RunStatus) -> None:
    """Tell the parent run this child's status, so its gates and pauses show there; a
    parent that has closed is not told."""
    assert meta.parent_run_id is not None and meta.parent_step_id is not None
    report = ChildStatus(
        step_id=meta.parent_step_id, child_run_id=workflow.info().workflow_id, status=status
    )
    try:
        await workflow.get_external_workflow_handle(meta.parent_run_id).signal(
            CHILD_STATUS_SIGNAL, report
        )
    except ApplicationError as err:
        workflow.logger.info("the parent run was not told: %s", err)
