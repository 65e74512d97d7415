"""A step's transcript: every attempt, failed ones included, from the blob store and the
call journal beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.authorization import Viewer
from api.deps import BlobsDep, CallJournalDep, SettingsDep, TemporalDep, UowDep
from api.schemas.errors import error_responses
from api.schemas.transcripts import StepTranscript
from api.services.transcripts import TranscriptService

router = APIRouter(tags=["runs"])


async def get_transcript_service(
    uow: UowDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    calls: CallJournalDep,
    blobs: BlobsDep,
) -> TranscriptService:
    return TranscriptService(uow, temporal, settings, calls, blobs)


TranscriptServiceDep = Annotated[TranscriptService, Depends(get_transcript_service)]


@router.get(
    "/runs/{run_id}/steps/{step_id}/transcript",
    response_model=StepTranscript,
    responses=error_responses(404, 503),
)
async def step_transcript(
    _: Viewer, run_id: str, step_id: str, service: TranscriptServiceDep
) -> StepTranscript:
    """Every attempt of a task step, by execution then attempt: its LLM and tool calls
    (each marked `replayed` when answered from the call journal) and its error.

    404 for an unknown run; an empty list for a step with no finished attempt yet.
    """
    return await service.for_step(run_id, step_id)
