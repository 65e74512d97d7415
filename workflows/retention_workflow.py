"""BlobRetentionWorkflow: delete the blobs of runs Temporal has dropped, on a schedule.

Large values live in the ``blobs`` table, each under the run it belongs to: step outputs
over the inline limit, transcripts, Temporal payloads over 16 KB. A replay of a run reads
them, and so does the API, for as long as Temporal keeps the run. Temporal drops a closed
run after the namespace's retention (``KASAL_RUN_RETENTION_DAYS``), and nothing reads its
blobs after that, so they can go; while describe() still finds a run, open or closed, they
must stay, or its replay breaks.

Each worker makes sure, as it starts, that the Temporal Schedule ``kasal-blob-retention``
exists (worker/schedules.py); it starts this workflow every
``KASAL_BLOB_RETENTION_INTERVAL_HOURS``, skipping a tick while the last sweep still runs.
The workflow does one thing, as an activity because it is I/O on Temporal and the
database: ``delete_blobs_of_runs_gone`` (activities/retention.py, db/retention.py). The
sweep is idempotent, so a failed attempt is retried, and the next tick picks up whatever
a sweep left.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

DELETE_BLOBS_OF_RUNS_GONE = "delete_blobs_of_runs_gone"
BLOB_RETENTION_WORKFLOW = "BlobRetentionWorkflow"
# Describing every run with old blobs, one by one: a few milliseconds each.
SWEEP_TIMEOUT = timedelta(hours=1)
SWEEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    # The next scheduled sweep starts afresh.
    maximum_attempts=5,
)


class BlobRetentionResult(BaseModel):
    runs_gone: int  # runs Temporal no longer has, whose blobs were deleted
    blobs_deleted: int


@workflow.defn(name=BLOB_RETENTION_WORKFLOW)
class BlobRetentionWorkflow:
    """One sweep: delete every blob of the runs Temporal has dropped."""

    @workflow.run
    async def run(self) -> BlobRetentionResult:
        result: BlobRetentionResult = await workflow.execute_activity(
            DELETE_BLOBS_OF_RUNS_GONE,
            start_to_close_timeout=SWEEP_TIMEOUT,
            retry_policy=SWEEP_RETRY,
            result_type=BlobRetentionResult,
            summary="delete the blobs of runs Temporal has dropped",
        )
        return result
