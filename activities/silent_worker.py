"""A step retried because its worker went silent: the run's next workflow task should not
wait for that worker.

Temporal sends a run's workflow tasks first to the sticky queue of the worker that ran
the run last, whose cache holds it. When that worker is dead, the server moves a task on
to the shared queue only after ``sticky_queue_schedule_to_start_timeout`` (worker/main.py),
unless the dead worker's last poll is already about 10 s old. A worker killed just after
it polled (a crash mid-step, a supervisor restarting it at once) costs the run that wait
after its retried step completes.

A step whose previous attempt missed its heartbeat is the sign: its worker is likely
dead, and likely the one the run is sticky to. Resetting the run's sticky queue sends its
next workflow task to the shared queue at once. If that worker lived after all (its loop
had stalled), its next task of this run is replayed from history: a cost paid once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflowservice.v1 import ResetStickyTaskQueueRequest

log = logging.getLogger(__name__)
# The step waits for this before its work (so the reset lands before its completion);
# a server slower than this costs at most the sticky queue's own timeout.
RPC_TIMEOUT = timedelta(seconds=2)


async def leave_silent_workers_queue() -> bool:
    """On a retried attempt whose predecessor missed its heartbeat, reset the run's sticky
    queue; whether it was reset. Never fails the step: the server's own timeout still
    moves the task, only later."""
    info = activity.info()
    if info.attempt == 1:
        return False
    client = activity.client()
    try:
        description = await client.get_workflow_handle(
            info.workflow_id, run_id=info.workflow_run_id
        ).describe(rpc_timeout=RPC_TIMEOUT)
        previous_failures = [
            pending.last_failure
            for pending in description.raw_description.pending_activities
            if pending.activity_id == info.activity_id and pending.HasField("last_failure")
        ]
        if not any(missed_heartbeat(failure) for failure in previous_failures):
            return False
        await client.workflow_service.reset_sticky_task_queue(
            ResetStickyTaskQueueRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(
                    workflow_id=info.workflow_id, run_id=info.workflow_run_id
                ),
            ),
            timeout=RPC_TIMEOUT,
        )
    except Exception:
        log.warning("could not reset the sticky queue of %s", info.workflow_id, exc_info=True)
        return False
    log.info(
        "%s attempt %d: the previous attempt's worker went silent; the run's sticky queue is reset",
        info.workflow_id,
        info.attempt,
    )
    return True


def missed_heartbeat(failure: Failure) -> bool:
    """Whether a failure (or one it was caused by) is a heartbeat timeout."""
    while True:
        if (
            failure.HasField("timeout_failure_info")
            and failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT
        ):
            return True
        if not failure.HasField("cause"):
            return False
        failure = failure.cause
