"""Paging through runs newest first in Temporal's visibility store.

The SQL visibility store (the dev server's, and many deployments') cannot sort by
start time: it returns open runs first, newest first, then closed runs by close time.
A closed run closes after it starts, so once the scan reaches closed runs that closed
before the n-th newest start seen so far, no unseen run can be among the n newest.

A page token is a cursor, the last listed run's (start time, workflow id), never an
offset: runs that start between two pages are newer than the cursor, so they neither
push a run onto the next page twice nor push one past it unseen. A run's start time is
its `KasalStartedAt`, which never changes: Temporal's StartTime is the latest
execution's and moves on at each continue-as-new. So a run that closes, or continues as
new, between pages keeps its place too. Runs started before `KasalStartedAt` existed
fall back on StartTime.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus

from api.errors import BadRequest
from workflows.search_attributes import KASAL_STARTED_AT

_EPOCH = datetime.min.replace(tzinfo=UTC)
# Python keeps microseconds; the store may keep nanoseconds. The visibility query asks
# for everything before the cursor's next microsecond, and the exact cut is made here.
_RESOLUTION = timedelta(microseconds=1)

# `KasalStartedAt` is the API's clock and a close time the server's: a closed run ends
# the scan only when it closed this long before the bound, so that a clock a little
# ahead of the server's never hides a short run.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=1)

RunOrder = tuple[datetime, str]


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last run listed, in newest-first order."""

    started_at: datetime
    run_id: str

    @classmethod
    def after(cls, execution: WorkflowExecution) -> Cursor:
        started_at, run_id = order_of(execution)
        return cls(started_at=started_at, run_id=run_id)

    def encode(self) -> str:
        data = {"started_at": self.started_at.isoformat(), "run_id": self.run_id}
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            started_at = datetime.fromisoformat(data["started_at"])
            run_id = data["run_id"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidPageToken() from None
        if not isinstance(run_id, str) or started_at.tzinfo is None:
            raise InvalidPageToken()
        return cls(started_at=started_at.astimezone(UTC), run_id=run_id)

    def visibility_clause(self) -> str:
        """Runs that started no later than this cursor's microsecond, in Temporal's terms."""
        bound = (self.started_at + _RESOLUTION).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return (
            f"({KASAL_STARTED_AT.name} < '{bound}'"
            f" OR ({KASAL_STARTED_AT.name} IS NULL AND StartTime < '{bound}'))"
        )

    def precedes(self, execution: WorkflowExecution) -> bool:
        """Whether ``execution`` comes after this cursor in newest-first order."""
        return order_of(execution) < (self.started_at, self.run_id)


class InvalidPageToken(BadRequest):
    def __init__(self) -> None:
        super().__init__("the page token is not one this API gave out")


def decode_page_token(token: str | None) -> Cursor | None:
    return Cursor.decode(token) if token else None


def run_started_at(execution: WorkflowExecution) -> datetime:
    """When the run started: its first execution, not its latest (see the module's doc)."""
    return execution.typed_search_attributes.get(KASAL_STARTED_AT) or execution.start_time or _EPOCH


def order_of(execution: WorkflowExecution) -> RunOrder:
    """Newest first is this key, descending; the workflow id breaks ties in start time."""
    return run_started_at(execution), execution.id


async def newest_first(
    executions: AsyncIterator[WorkflowExecution], count: int, after: Cursor | None = None
) -> tuple[list[WorkflowExecution], bool]:
    """The ``count`` newest-started executions after ``after``, and whether more exist.

    ``executions`` must already be limited to ``after.visibility_clause()``.
    """
    seen: list[WorkflowExecution] = []
    more = False
    async for execution in executions:
        if after is not None and not after.precedes(execution):
            continue
        if len(seen) >= count and _is_closed(execution):
            bound = sorted((run_started_at(e) for e in seen), reverse=True)[count - 1]
            closed_at = execution.close_time
            if closed_at is not None and closed_at < bound - CLOCK_SKEW_ALLOWANCE:
                more = True
                break
        seen.append(execution)
    seen.sort(key=order_of, reverse=True)
    return seen[:count], more or len(seen) > count


def _is_closed(execution: WorkflowExecution) -> bool:
    return execution.status not in (None, WorkflowExecutionStatus.RUNNING)
