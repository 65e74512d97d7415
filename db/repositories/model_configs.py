"""Queries on model configs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ModelConfigRow


class ModelConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, name: str) -> ModelConfigRow | None:
        return await self.session.get(ModelConfigRow, name)

    async def list(self) -> Sequence[ModelConfigRow]:
        return (
            (await self.session.execute(select(ModelConfigRow).order_by(ModelConfigRow.name)))
            .scalars()
            .all()
        )

    async def names(self) -> set[str]:
        return set((await self.session.execute(select(ModelConfigRow.name))).scalars().all())

    def add(self, row: ModelConfigRow) -> None:
        self.session.add(row)

    async def insert(self, row: ModelConfigRow) -> None:
        """Write the row now, so a taken name fails here (IntegrityError), not at commit."""
        self.session.add(row)
        await self.session.flush()

    async def delete(self, row: ModelConfigRow) -> None:
        await self.session.delete(row)
