"""Model configs. The API key is write-only: responses show `has_api_key` instead."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.authorization import Admin, Viewer
from api.deps import ModelServiceDep
from api.schemas.errors import error_responses
from api.schemas.models import ModelConfigCreate, ModelConfigRead, ModelConfigUpdate

router = APIRouter(prefix="/models", tags=["models"])


@router.post(
    "",
    response_model=ModelConfigRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422),
)
async def create(_: Admin, body: ModelConfigCreate, service: ModelServiceDep) -> ModelConfigRead:
    return await service.create(body)


@router.get("", response_model=list[ModelConfigRead])
async def get_all(_: Viewer, service: ModelServiceDep) -> list[ModelConfigRead]:
    return await service.get_all()


@router.get("/{name}", response_model=ModelConfigRead, responses=error_responses(404))
async def get(_: Viewer, name: str, service: ModelServiceDep) -> ModelConfigRead:
    return await service.get(name)


@router.put("/{name}", response_model=ModelConfigRead, responses=error_responses(400, 404, 422))
async def update(
    _: Admin, name: str, body: ModelConfigUpdate, service: ModelServiceDep
) -> ModelConfigRead:
    return await service.update(name, body)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete(_: Admin, name: str, service: ModelServiceDep) -> None:
    await service.delete(name)
