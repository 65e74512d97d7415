"""The Temporal Schedules a worker makes sure of as it starts: blob retention.

Every worker process does this at start-up; the first creates the schedule, the others
(and every later start) find it there and leave it as it is, whether they started one
after the other or at the same instant.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.service import RPCError, RPCStatusCode

from kasal.settings import Settings
from workflows.retention_workflow import BlobRetentionWorkflow

log = logging.getLogger("kasal.worker")

BLOB_RETENTION_SCHEDULE_ID = "kasal-blob-retention"


def blob_retention_schedule(task_queue: str, interval: timedelta) -> Schedule:
    """A sweep every ``interval`` on ``task_queue``; a tick while one still runs is skipped."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            BlobRetentionWorkflow.run,
            # The schedule adds each start's time to the id.
            id=BLOB_RETENTION_SCHEDULE_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_blob_retention_schedule(client: Client, settings: Settings) -> bool:
    """Create the blob retention schedule unless it exists; True if this call created it.

    The sweep runs every ``KASAL_BLOB_RETENTION_INTERVAL_HOURS`` on ``KASAL_TASK_QUEUE``.

    An existing schedule is left as it is, even with another interval (a warning says
    so): delete it (``temporal schedule delete --schedule-id kasal-blob-retention``) and
    start a worker to apply a new ``KASAL_BLOB_RETENTION_INTERVAL_HOURS``.
    """
    task_queue = settings.KASAL_TASK_QUEUE
    interval = timedelta(hours=settings.KASAL_BLOB_RETENTION_INTERVAL_HOURS)
    try:
        await client.create_schedule(
            BLOB_RETENTION_SCHEDULE_ID, blob_retention_schedule(task_queue, interval)
        )
    except ScheduleAlreadyRunningError:
        pass
    except RPCError as exc:
        # Two workers creating it at once: the loser may hear of it this way instead.
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise
    else:
        log.info(
            "created schedule %s: blob retention every %s on %s",
            BLOB_RETENTION_SCHEDULE_ID,
            interval,
            task_queue,
        )
        return True
    await _warn_if_different(client, task_queue, interval)
    return False


async def _warn_if_different(client: Client, task_queue: str, interval: timedelta) -> None:
    try:
        description = await client.get_schedule_handle(BLOB_RETENTION_SCHEDULE_ID).describe()
    except RPCError:
        # Only advice: a schedule just created by another worker may not describe yet.
        log.debug("could not describe schedule %s", BLOB_RETENTION_SCHEDULE_ID, exc_info=True)
        return
    schedule = description.schedule
    intervals = [spec.every for spec in schedule.spec.intervals]
    action = schedule.action
    queue = action.task_queue if isinstance(action, ScheduleActionStartWorkflow) else None
    if intervals != [interval] or queue != task_queue:
        log.warning(
            "schedule %s exists with intervals %s on %s, not every %s on %s; left as it is",
            BLOB_RETENTION_SCHEDULE_ID,
            [str(every) for every in intervals],
            queue,
            interval,
            task_queue,
        )
