"""How many runs there are and how they closed, counted by Temporal's visibility store
for /metrics (api/metrics.py).

Two counts a scrape, whatever the number of runs: one grouped by Temporal's execution
status, and the rejected runs, which Temporal counts as completed.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from api.metrics import RunCounts
from api.services.run_access import RUN_TYPES_QUERY
from workflows.status import RunStatus

# Temporal's execution statuses as visibility groups them, and the run status of each.
_CLOSED_BY_EXECUTION_STATUS = {
    "Completed": RunStatus.COMPLETED,
    "Failed": RunStatus.FAILED,
    "Canceled": RunStatus.CANCELLED,
    "Terminated": RunStatus.TERMINATED,
    "TimedOut": RunStatus.TIMED_OUT,
}
# The execution a run continued from: the run goes on in its next execution.
_CONTINUED = "ContinuedAsNew"


async def count_runs(client: Client, task_queue: str) -> RunCounts:
    """This Kasal's runs: both workflow types, on its task queue (another Kasal may
    share the namespace), each run once however often it continued as new."""
    ours = f"{RUN_TYPES_QUERY} AND TaskQueue = '{task_queue}'"
    by_status, rejected = await asyncio.gather(
        client.count_workflows(f"{ours} GROUP BY ExecutionStatus"),
        client.count_workflows(
            f"{ours} AND ExecutionStatus = 'Completed' AND KasalStatus = '{RunStatus.REJECTED}'"
        ),
    )
    started = 0
    closed = dict.fromkeys(_CLOSED_BY_EXECUTION_STATUS.values(), 0)
    for group in by_status.groups:
        execution_status = str(group.group_values[0])
        if execution_status == _CONTINUED:
            continue
        started += group.count
        if execution_status in _CLOSED_BY_EXECUTION_STATUS:
            closed[_CLOSED_BY_EXECUTION_STATUS[execution_status]] += group.count
    closed[RunStatus.COMPLETED] -= rejected.count
    closed[RunStatus.REJECTED] = rejected.count
    return RunCounts(started=started, closed=closed)
