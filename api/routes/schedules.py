"""Schedules: a workflow's runs started by Temporal Schedules, read from Temporal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from api.authorization import Editor, Operator, Viewer
from api.deps import ScheduleServiceDep
from api.schemas.errors import error_responses
from api.schemas.schedules import BackfillRequest, SchedulePage, ScheduleRead, ScheduleWrite

router = APIRouter(tags=["schedules"])


@router.post(
    "/workflows/{workflow_id}/schedules",
    response_model=ScheduleRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 404, 422, 503),
)
async def create(
    _: Editor, workflow_id: uuid.UUID, body: ScheduleWrite, service: ScheduleServiceDep
) -> ScheduleRead:
    """Start runs of the workflow on a cron expression or every `interval` seconds; the
    version and inputs are checked now, and compiled afresh each time it fires."""
    return await service.create(workflow_id, body)


@router.get("/schedules", response_model=SchedulePage, responses=error_responses(503))
async def get_all(_: Viewer, service: ScheduleServiceDep) -> SchedulePage:
    """The workspace's schedules, newest first, with their next and recent runs."""
    return await service.get_all()


@router.get(
    "/schedules/{schedule_id}", response_model=ScheduleRead, responses=error_responses(404, 503)
)
async def get(_: Viewer, schedule_id: str, service: ScheduleServiceDep) -> ScheduleRead:
    return await service.get(schedule_id)


@router.put(
    "/schedules/{schedule_id}",
    response_model=ScheduleRead,
    responses=error_responses(400, 404, 422, 503),
)
async def update(
    _: Editor, schedule_id: str, body: ScheduleWrite, service: ScheduleServiceDep
) -> ScheduleRead:
    """Replace the schedule's timing, version, inputs and policies (not its workflow)."""
    return await service.update(schedule_id, body)


@router.delete(
    "/schedules/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(404, 503),
)
async def delete(_: Editor, schedule_id: str, service: ScheduleServiceDep) -> None:
    """Delete the schedule; the runs it started stay."""
    await service.delete(schedule_id)


@router.post(
    "/schedules/{schedule_id}/pause",
    response_model=ScheduleRead,
    responses=error_responses(404, 503),
)
async def pause(principal: Operator, schedule_id: str, service: ScheduleServiceDep) -> ScheduleRead:
    """Start nothing by itself until unpaused (trigger and backfill still start runs)."""
    return await service.pause(schedule_id, f"paused by {principal.email}")


@router.post(
    "/schedules/{schedule_id}/unpause",
    response_model=ScheduleRead,
    responses=error_responses(404, 503),
)
async def unpause(
    principal: Operator, schedule_id: str, service: ScheduleServiceDep
) -> ScheduleRead:
    return await service.unpause(schedule_id, f"unpaused by {principal.email}")


@router.post(
    "/schedules/{schedule_id}/trigger",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=error_responses(404, 503),
)
async def trigger(_: Operator, schedule_id: str, service: ScheduleServiceDep) -> None:
    """A run now, as if the schedule had fired: its overlap policy applies."""
    await service.trigger(schedule_id)


@router.post(
    "/schedules/{schedule_id}/backfill",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=error_responses(400, 404, 422, 503),
)
async def backfill(
    _: Operator, schedule_id: str, body: BackfillRequest, service: ScheduleServiceDep
) -> None:
    """Runs for every time the schedule names from start_at to end_at, started now."""
    await service.backfill(schedule_id, body)
