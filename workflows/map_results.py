"""Storing a map's results, from the workflow: the ``store_map_results`` activity
(activities/map_results.py) and how a run carries out ``StoreMapResults``.

Why a map stores its results, and when, is in workflows/engine/child_steps.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.exceptions import CancelledError as TemporalCancelledError
from temporalio.workflow import ActivityCancellationType

from workflows.engine.events import MapResultsStored, RunEvent, StoreMapResults, TaskFailed
from workflows.engine.state import MapEntry
from workflows.task_activity import ACTIVITY_ID_SEPARATOR, failure_message

STORE_MAP_RESULTS = "store_map_results"
# Reading a few batches and writing one blob: database round trips.
STORE_TIMEOUT = timedelta(minutes=2)
# A blob store that is down for a while delays the map; one that stays down pauses the
# step with the reason, and an operator's retry stores the same results again.
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)


_STORE_SUFFIX = "results"


class StoreMapResultsInput(BaseModel):
    run_id: str
    step_id: str
    entries: list[MapEntry]
    # With ``final``: the batches stored before, whose items come first.
    batch_refs: list[str] = []
    final: bool = False


class StoredMapResults(BaseModel):
    ref: str
    preview: str  # of the stored JSON list


def store_activity_id(step_id: str, execution: int) -> str:
    """Unlike a task's (``activity_id``), it does not parse as a step's execution: the
    API's history fold tells a store from a task by its activity type."""
    return f"{step_id}{ACTIVITY_ID_SEPARATOR}{execution}{ACTIVITY_ID_SEPARATOR}{_STORE_SUFFIX}"


def parse_store_activity_id(activity_id: str) -> tuple[str, int]:
    """The step and execution a ``store_activity_id`` names."""
    step_id, execution, _ = activity_id.rsplit(ACTIVITY_ID_SEPARATOR, 2)
    return step_id, int(execution)


async def store_map_results(command: StoreMapResults) -> RunEvent:
    """Store the results; the event to feed, a ``TaskFailed`` when the store did not."""
    try:
        stored = await workflow.execute_activity(
            STORE_MAP_RESULTS,
            StoreMapResultsInput(
                run_id=workflow.info().workflow_id,
                step_id=command.step_id,
                entries=command.entries,
                batch_refs=command.batch_refs,
                final=command.final,
            ),
            result_type=StoredMapResults,
            activity_id=store_activity_id(command.step_id, command.execution),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            summary=f"store the results of map {command.step_id}",
        )
    except ActivityError as err:
        if isinstance(err.cause, TemporalCancelledError):
            return _cancelled(command)
        return TaskFailed(
            at=workflow.now(),
            step_id=command.step_id,
            execution=command.execution,
            error=f"storing its results: {failure_message(err)}",
            attempts=1,
        )
    except asyncio.CancelledError:
        return _cancelled(command)  # the run cancelled it (CancelTask)
    return MapResultsStored(
        at=workflow.now(),
        step_id=command.step_id,
        execution=command.execution,
        ref=stored.ref,
        preview=stored.preview,
    )


def _cancelled(command: StoreMapResults) -> TaskFailed:
    return TaskFailed(
        at=workflow.now(),
        step_id=command.step_id,
        execution=command.execution,
        error="cancelled",
        attempts=1,
        cancelled=True,
    )
