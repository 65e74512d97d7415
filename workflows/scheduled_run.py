"""ScheduledRunWorkflow: what a Kasal schedule starts each time it fires.

A Temporal Schedule starts a workflow with arguments fixed when the schedule was saved,
but a schedule of ``"latest"`` must run the version that is newest when it fires, with
the model configs and tools of that moment. So the schedule starts this launcher, which
compiles the version in an activity (the definitions are in the database:
activities/scheduled_runs.py, with the same code the API compiles with), then starts the
run as an ordinary ``AgentWorkflowV2`` child and waits for it to close.

Waiting is what makes the schedule's overlap policy hold for the runs themselves: while
a run is open, its launcher is, so ``skip`` skips, ``buffer_one`` buffers, and
``cancel_other`` cancels the launcher, which cancels its run (cancelling a child waits
for it to close) and so does closing the launcher in any other way
(``REQUEST_CANCEL``).

The run's id derives from the launcher's first run id: the schedule's recent actions
name launchers by it, and so lead to their runs. The run
carries ``KasalScheduleId`` and the workspace with the usual search attributes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan import Plan
from workflows.run_launch import run_details, run_search_attributes, run_summary, scheduled_run_id

SCHEDULED_RUN_WORKFLOW = "ScheduledRunWorkflow"
# Runs were named after the launcher's workflow id, which two firings in one second share.
RUN_ID_FROM_LAUNCHER_RUN = "run-id-from-launcher-run"
COMPILE_SCHEDULED_RUN = "compile_scheduled_run"
# Reading a version, the model configs and the tools: a database round trip or three.
COMPILE_TIMEOUT = timedelta(minutes=1)
# A database that is down for a while delays the run; one that stays down fails it (the
# error names why), and the schedule fires again at its next time.
COMPILE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
)


class ScheduledRunInput(BaseModel):
    """A schedule's fixed arguments: which version of what, with which inputs."""

    schedule_id: str
    workspace: str
    workflow_id: str
    version: int | None = None  # None: the latest when the schedule fires
    inputs: dict[str, Any] = {}


class ScheduledRunResult(BaseModel):
    run_id: str


@workflow.defn(name=SCHEDULED_RUN_WORKFLOW)
class ScheduledRunWorkflow:
    """One firing of a schedule: compile the version, run it as a child, wait for it."""

    @workflow.run
    async def run(self, launch: ScheduledRunInput) -> ScheduledRunResult:
        plan: Plan = await workflow.execute_activity(
            COMPILE_SCHEDULED_RUN,
            launch,
            start_to_close_timeout=COMPILE_TIMEOUT,
            retry_policy=COMPILE_RETRY,
            result_type=Plan,
            summary=f"compile workflow {launch.workflow_id}",
        )
        launcher = workflow.info()
        named_by = launcher.first_execution_run_id
        if not workflow.patched(RUN_ID_FROM_LAUNCHER_RUN):
            named_by = launcher.workflow_id  # launchers in flight before it keep their runs' ids
        run_id = scheduled_run_id(named_by)
        await workflow.execute_child_workflow(
            AgentWorkflowV2.run,
            AgentWorkflowV2Input(plan=plan),
            id=run_id,
            search_attributes=run_search_attributes(
                plan.meta, workflow.now(), schedule_id=launch.schedule_id
            ),
            static_summary=run_summary(plan.meta),
            static_details=run_details(plan.meta),
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
        return ScheduledRunResult(run_id=run_id)
