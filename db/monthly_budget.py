"""A workspace's monthly cap on what its runs' LLM calls cost, and what is left of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from db.models import WorkspaceRow
from db.repositories.usage import UsageRepository


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s calendar month, in UTC."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def monthly_headroom(sessions: async_sessionmaker[Any], workspace: str) -> int | None:
    """What the workspace may still spend this month, in micro-dollars (never below 0);
    None when it has no cap."""
    async with sessions() as session:
        row = await session.get(WorkspaceRow, workspace)
        cap: int | None = row.max_cost_micros_per_month if row is not None else None
        if cap is None:
            return None
        spent = await UsageRepository(session, workspace).cost_since(month_start(datetime.now(UTC)))
    return max(0, cap - spent)
