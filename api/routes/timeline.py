"""A run's timeline: its steps' attempts, calls, gate waits and backoffs on one time axis."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.authorization import Viewer
from api.deps import BlobsDep, CallJournalDep, PrincipalDep, SettingsDep, TemporalDep
from api.schemas.errors import error_responses
from api.schemas.timeline import RunTimeline
from api.services.timeline import TimelineService

router = APIRouter(tags=["runs"])


async def get_timeline_service(
    temporal: TemporalDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    calls: CallJournalDep,
    principal: PrincipalDep,
) -> TimelineService:
    return TimelineService(temporal, settings, blobs, calls, principal.workspace.id)


TimelineServiceDep = Annotated[TimelineService, Depends(get_timeline_service)]


@router.get(
    "/runs/{run_id}/timeline", response_model=RunTimeline, responses=error_responses(404, 503)
)
async def timeline(_: Viewer, run_id: str, service: TimelineServiceDep) -> RunTimeline:
    """One document for a Gantt view of the run: per step its attempts (start, end,
    outcome, error) with the LLM and tool calls each made, the backoff or pause between
    failed attempts, and an approval gate's waits. Bars still going have a null end.

    Child runs' steps are not included: a step lists the runs it started, each with its
    own timeline.
    """
    return await service.get(run_id)
