"""Workflow definitions and their immutable versions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import WorkflowServiceDep
from api.schemas.workflows import (
    ValidateRequest,
    ValidateResponse,
    VersionRead,
    WorkflowCreate,
    WorkflowPage,
    WorkflowRead,
    WorkflowUpdate,
)

router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.post("/validate", response_model=ValidateResponse)
async def validate(body: ValidateRequest, service: WorkflowServiceDep) -> ValidateResponse:
    """Check a definition without running it; 422 lists every error with its path."""
    return await service.validate(body.spec)


@router.post("", response_model=WorkflowRead, status_code=status.HTTP_201_CREATED)
async def create(body: WorkflowCreate, service: WorkflowServiceDep) -> WorkflowRead:
    return await service.create(body)


@router.get("", response_model=WorkflowPage)
async def get_all(
    service: WorkflowServiceDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WorkflowPage:
    return await service.get_all(name=name, limit=limit, offset=offset)


@router.get("/{workflow_id}", response_model=WorkflowRead)
async def get(workflow_id: uuid.UUID, service: WorkflowServiceDep) -> WorkflowRead:
    return await service.get(workflow_id)


@router.put("/{workflow_id}", response_model=WorkflowRead)
async def update(
    workflow_id: uuid.UUID, body: WorkflowUpdate, service: WorkflowServiceDep
) -> WorkflowRead:
    return await service.update(workflow_id, body)


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(workflow_id: uuid.UUID, service: WorkflowServiceDep) -> None:
    await service.delete(workflow_id)


@router.get("/{workflow_id}/versions", response_model=list[VersionRead])
async def get_versions(workflow_id: uuid.UUID, service: WorkflowServiceDep) -> list[VersionRead]:
    return await service.get_versions(workflow_id)


@router.get("/{workflow_id}/versions/{version}", response_model=VersionRead)
async def get_version(
    workflow_id: uuid.UUID, version: int, service: WorkflowServiceDep
) -> VersionRead:
    return await service.get_version(workflow_id, version)
