"""Rules for transcripts: read from the blob store and the call journal, never from the
workflow, so they stay readable however the run ended and however long ago."""

from __future__ import annotations

from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND, StepTranscript
from api.services.call_records import attempt_transcript
from api.services.run_access import RunAccess
from api.temporal import TemporalGateway
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.uow import UnitOfWork
from kasal.settings import Settings


class TranscriptService(RunAccess):
    def __init__(
        self,
        uow: UnitOfWork,
        temporal: TemporalGateway,
        settings: Settings,
        calls: CallJournal,
        blobs: BlobStore,
    ) -> None:
        super().__init__(temporal, settings, uow.workspace)
        self.uow = uow
        self.calls = calls
        self.blobs = blobs

    async def for_step(self, run_id: str, step_id: str) -> StepTranscript:
        """Every attempt of the step, by execution then attempt.

        A run Temporal knows whose step has not finished an attempt yet has an empty
        list. The run is looked up first: one of another workspace is not found (blobs
        outlive it only until retention deletes them with it). The blobs are read through
        the store, which decrypts them.
        """
        await self._describe(await self._handle(run_id))
        contents = await self.blobs.contents_of_step(run_id, step_id, ATTEMPT_TRANSCRIPT_KIND)
        read = [
            await attempt_transcript(self.calls, run_id, step_id, content) for content in contents
        ]
        attempts = sorted(read, key=lambda attempt: (attempt.execution, attempt.attempt))
        return StepTranscript(attempts=attempts)
