"""The ``delete_blobs_of_runs_gone`` activity: one retention sweep of the blob store."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from db.blobs import BlobStore
from db.retention import delete_blobs_of_runs_gone
from workflows.retention_workflow import DELETE_BLOBS_OF_RUNS_GONE, BlobRetentionResult


class BlobRetentionActivities:
    def __init__(self, client: Client, blobs: BlobStore) -> None:
        self._client = client
        self._blobs = blobs

    @activity.defn(name=DELETE_BLOBS_OF_RUNS_GONE)
    async def delete_blobs_of_runs_gone(self) -> BlobRetentionResult:
        """An activity because it asks Temporal which runs it still has, and deletes rows."""
        sweep = await delete_blobs_of_runs_gone(self._blobs, self._client)
        activity.logger.info(
            "retention: deleted %d blobs of %d runs Temporal has dropped",
            sweep.blobs_deleted,
            len(sweep.runs_gone),
        )
        return BlobRetentionResult(
            runs_gone=len(sweep.runs_gone), blobs_deleted=sweep.blobs_deleted
        )
