"""Rules for transcripts: read from the blob store alone, never from the workflow, so
they stay readable however the run ended and however long ago."""

from __future__ import annotations

from temporalio.service import RPCError, RPCStatusCode

from api.errors import NotFound, Unavailable
from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND, AttemptTranscript, StepTranscript
from api.services.run_access import WORKFLOW_TYPES
from api.temporal import TemporalGateway
from db.uow import UnitOfWork


class TranscriptService:
    def __init__(self, uow: UnitOfWork, temporal: TemporalGateway) -> None:
        self.uow = uow
        self.temporal = temporal

    async def for_step(self, run_id: str, step_id: str) -> StepTranscript:
        """Every attempt of the step, by execution then attempt.

        A run Temporal knows whose step has not finished an attempt yet has an empty
        list; a run neither the blob store nor Temporal knows is not found.
        """
        async with self.uow as uow:
            blobs = await uow.blobs.list_for_step(run_id, step_id, ATTEMPT_TRANSCRIPT_KIND)
        attempts = sorted(
            (AttemptTranscript.model_validate_json(blob.content) for blob in blobs),
            key=lambda attempt: (attempt.execution, attempt.attempt),
        )
        if not attempts:
            await self._require_run(run_id)
        return StepTranscript(attempts=attempts)

    async def _require_run(self, run_id: str) -> None:
        client = await self.temporal.client()
        try:
            description = await client.get_workflow_handle(run_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(f"no run {run_id}") from None
            raise Unavailable(f"Temporal did not answer: {err.message}") from None
        # Runs share Temporal with their notification workflows, which are not runs.
        if description.workflow_type not in WORKFLOW_TYPES:
            raise NotFound(f"no run {run_id}")
