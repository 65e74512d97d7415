"""The audit log: sign-ins and every change, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.authorization import Admin
from api.deps import UowDep
from api.schemas.errors import error_responses
from api.schemas.identity import AuditPage, AuditRead
from db.models import DEFAULT_WORKSPACE

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage, responses=error_responses(422))
async def get_page(
    principal: Admin,
    uow: UowDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """A workspace's admins read its entries; the admins of `default` read everything,
    sign-ins included."""
    scope = None if principal.workspace.id == DEFAULT_WORKSPACE else principal.workspace.id
    async with uow:
        entries = await uow.audit.page(before=before, limit=limit, workspace=scope)
    items = [AuditRead.model_validate(entry, from_attributes=True) for entry in entries]
    next_before = items[-1].id if len(items) == limit else None
    return AuditPage(items=items, next_before=next_before)
