"""Importing definitions from elsewhere: Kasal's exported crews and flows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, status

from api.authorization import Editor
from api.deps import SecretsDep, UowDep
from api.egress import EgressDep
from api.schemas.errors import error_responses
from api.schemas.imports import ImportResult, KasalImportBody, OnConflict
from api.services.kasal_import.service import KasalImportService
from api.services.workflows import WorkflowService

router = APIRouter(prefix="/import", tags=["import"])


async def get_kasal_import_service(
    uow: UowDep, secrets: SecretsDep, egress: EgressDep
) -> KasalImportService:
    return KasalImportService(uow, WorkflowService(uow, secrets, egress))


KasalImportServiceDep = Annotated[KasalImportService, Depends(get_kasal_import_service)]

_EXAMPLE: dict[str, Any] = {
    "model_map": {"databricks-claude-sonnet-4": "local"},
    "crews": [{"id": "…", "name": "…", "nodes": ["…"], "edges": ["…"]}],
    "flows": [],
}


@router.post(
    "/kasal",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422),
)
async def import_kasal(
    _: Editor,
    service: KasalImportServiceDep,
    body: Annotated[
        KasalImportBody,
        Body(
            description=(
                "One Kasal crew, one flow, or a bundle `{crews, flows}`, as Kasal exports "
                "them; `model_map` beside them maps Kasal's model names to model configs."
            ),
            examples=[_EXAMPLE],
        ),
    ],
    on_conflict: Annotated[
        OnConflict | None,
        Query(description="When a name exists: a new version of it, or a new name. Else 409."),
    ] = None,
) -> ImportResult:
    """Create a definition per crew and flow, with every warning; all or nothing."""
    return await service.create(body, on_conflict)
