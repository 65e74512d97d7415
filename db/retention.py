"""Retention of blobs: a run's blobs go once Temporal has dropped the run, never before.

Every blob belongs to one run (its ``run_id``, a Temporal workflow id): a step's output
over the inline limit, a transcript, a Temporal payload over 16 KB (db/payload_store.py).
A replay of the run reads them, and so does the API for as long as Temporal keeps the
run. Temporal drops a closed run after its namespace's retention
(``KASAL_RUN_RETENTION_DAYS``); from then on nothing can read the run's blobs, and
:func:`delete_blobs_of_runs_gone` deletes them. While describe() still finds a run, open
or closed, they stay: deleting them earlier breaks replay.

A run that refers to another run's blobs keeps copies of its own (a fork reusing its
parent's steps: ``BlobStore.copy_to_run``), so a run's blobs are never shared.

The worker schedules the sweep (workflows/retention_workflow.py, worker/schedules.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from db.base import utcnow
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.live_tokens import LiveTokenStore

# Blobs younger than this are never deleted: a client stores a workflow's input before
# the workflow exists, and a fork copies its parent's blobs before it starts, so
# "Temporal does not know this id" is not yet "the run is gone".
DELETE_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class RetentionSweep:
    runs_gone: list[str]  # the runs Temporal no longer has whose blobs were deleted
    blobs_deleted: int


async def runs_gone(client: Client, run_ids: Sequence[str]) -> list[str]:
    """The workflow ids among ``run_ids`` that Temporal no longer has at all."""
    gone = []
    for run_id in run_ids:
        try:
            await client.get_workflow_handle(run_id).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            gone.append(run_id)
    return gone


async def delete_blobs_of_runs_gone(
    blobs: BlobStore, client: Client, now: datetime | None = None
) -> RetentionSweep:
    """Delete every blob of the runs Temporal has dropped: outputs, transcripts, payloads,
    and their calls in the call journal beside the blobs, and any live text a call left
    when its worker died mid-stream.

    Temporal drops a closed run after its namespace's retention
    (``KASAL_RUN_RETENTION_DAYS``); until then, and while a run is open, describe()
    finds it and its blobs stay. Blobs younger than a day are left alone whatever
    Temporal says (:data:`DELETE_GRACE`). Blobs stored for no workflow (run id "") are
    never deleted.
    """
    before = (now or utcnow()) - DELETE_GRACE
    candidates = await blobs.run_ids_with_blobs(created_before=before)
    gone = await runs_gone(client, [run_id for run_id in candidates if run_id])
    deleted = await blobs.delete_blobs_of_runs(gone, created_before=before)
    await CallJournal(blobs).delete_runs(gone, created_before=before)
    await LiveTokenStore(blobs).delete_runs(gone)
    return RetentionSweep(runs_gone=gone, blobs_deleted=deleted)
