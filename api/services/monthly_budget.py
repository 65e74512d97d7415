"""A workspace's monthly budget: its cap, and what its calls cost this month so far.

Steps check it before each LLM call (activities/budget_guard.py): a call that could
cross it is not made, and the step pauses with reason budget, as for a run's budget.
"""

from __future__ import annotations

from datetime import UTC, datetime

from api.errors import NotFound
from api.schemas.budget import MonthlyBudgetRead, MonthlyBudgetWrite
from db.models import WorkspaceRow
from db.monthly_budget import month_start
from db.uow import UnitOfWork
from workflows.task_step import MICROS_PER_USD


class MonthlyBudgetService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def get(self) -> MonthlyBudgetRead:
        async with self.uow as uow:
            return await self._read(uow, await self._workspace(uow))

    async def put(self, body: MonthlyBudgetWrite) -> MonthlyBudgetRead:
        cap = body.max_cost_usd_per_month
        async with self.uow as uow:
            workspace = await self._workspace(uow)
            workspace.max_cost_micros_per_month = (
                None if cap is None else round(cap * MICROS_PER_USD)
            )
            return await self._read(uow, workspace)

    @staticmethod
    async def _workspace(uow: UnitOfWork) -> WorkspaceRow:
        workspace = await uow.workspaces.get(uow.workspace)
        if workspace is None:
            raise NotFound(f"no workspace '{uow.workspace}'")
        return workspace

    @staticmethod
    async def _read(uow: UnitOfWork, workspace: WorkspaceRow) -> MonthlyBudgetRead:
        start = month_start(datetime.now(UTC))
        cap = workspace.max_cost_micros_per_month
        return MonthlyBudgetRead(
            max_cost_usd_per_month=None if cap is None else cap / MICROS_PER_USD,
            month_start=start,
            spent_this_month_micros=await uow.usage.cost_since(start),
        )
