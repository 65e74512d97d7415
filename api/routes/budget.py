"""The workspace's monthly budget: runs whose next LLM call could cross it pause."""

from __future__ import annotations

from fastapi import APIRouter

from api.authorization import Admin, Viewer
from api.deps import MonthlyBudgetServiceDep
from api.schemas.budget import MonthlyBudgetRead, MonthlyBudgetWrite
from api.schemas.errors import error_responses

router = APIRouter(prefix="/budget", tags=["budget"])


@router.get("", response_model=MonthlyBudgetRead, responses=error_responses(404))
async def get(_: Viewer, service: MonthlyBudgetServiceDep) -> MonthlyBudgetRead:
    """The cap, and what the workspace's LLM calls cost this month (UTC) so far."""
    return await service.get()


@router.put("", response_model=MonthlyBudgetRead, responses=error_responses(400, 404, 422))
async def put(
    _: Admin, body: MonthlyBudgetWrite, service: MonthlyBudgetServiceDep
) -> MonthlyBudgetRead:
    """Set the cap (null: none). A step paused by it runs again on retry once it allows."""
    return await service.put(body)
