"""Listing runs newest first from Temporal's visibility store.

The SQL visibility store (the dev server's, and many deployments') cannot sort by
start time: it returns open runs first, newest first, then closed runs by close time.
A closed run closes after it starts, so once the scan reaches closed runs that closed
before the n-th newest start seen so far, no unseen run can be among the n newest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

_EPOCH = datetime.min.replace(tzinfo=UTC)


async def newest_first(
    executions: AsyncIterator[WorkflowExecution], count: int
) -> tuple[list[WorkflowExecution], bool]:
    """The ``count`` newest-started executions, and whether any more exist."""
    seen: list[WorkflowExecution] = []
    more = False
    async for execution in executions:
        if len(seen) >= count and _is_closed(execution):
            bound = sorted((_started(e) for e in seen), reverse=True)[count - 1]
            if execution.close_time is not None and execution.close_time < bound:
                more = True
                break
        seen.append(execution)
    seen.sort(key=_started, reverse=True)
    return seen[:count], more or len(seen) > count


def _started(execution: WorkflowExecution) -> datetime:
    return execution.start_time or _EPOCH


def _is_closed(execution: WorkflowExecution) -> bool:
    return execution.status not in (None, WorkflowExecutionStatus.RUNNING)
