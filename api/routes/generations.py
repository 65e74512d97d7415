"""Workflow definitions written by a model from a prompt; nothing is saved until the
user saves the draft as a workflow."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.authorization import Editor, Viewer
from api.deps import GenerationServiceDep
from api.schemas.errors import error_responses
from api.schemas.generations import GenerateRequest, GenerationRead, GenerationStarted

router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.post(
    "/generate",
    response_model=GenerationStarted,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 422, 503),
)
async def generate(
    _: Editor, body: GenerateRequest, service: GenerationServiceDep
) -> GenerationStarted:
    """Start writing a definition from `prompt` with `model`; poll the generation."""
    return await service.create(body)


@router.get(
    "/generations/{generation_id}",
    response_model=GenerationRead,
    responses=error_responses(404, 422, 503),
)
async def get_generation(
    _: Viewer, generation_id: uuid.UUID, service: GenerationServiceDep
) -> GenerationRead:
    """Running; completed with a definition that compiles; or failed with the last errors."""
    return await service.get(generation_id)
