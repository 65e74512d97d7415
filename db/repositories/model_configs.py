"""Queries on the model configs of one workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DEFAULT_WORKSPACE, ModelConfigRow


class ModelConfigRepository:
    def __init__(self, session: AsyncSession, workspace: str = DEFAULT_WORKSPACE) -> None:
        self.session = session
        self.workspace = workspace

    async def get(self, name: str) -> ModelConfigRow | None:
        return await self.session.get(ModelConfigRow, (self.workspace, name))

    async def list(self) -> Sequence[ModelConfigRow]:
        query = (
            select(ModelConfigRow)
            .where(ModelConfigRow.workspace == self.workspace)
            .order_by(ModelConfigRow.name)
        )
        return (await self.session.execute(query)).scalars().all()

    async def names(self) -> set[str]:
        query = select(ModelConfigRow.name).where(ModelConfigRow.workspace == self.workspace)
        return set((await self.session.execute(query)).scalars().all())

    def add(self, row: ModelConfigRow) -> None:
        row.workspace = self.workspace
        self.session.add(row)

    async def insert(self, row: ModelConfigRow) -> None:
        """Write the row now, so a taken name fails here (IntegrityError), not at commit."""
        row.workspace = self.workspace
        self.session.add(row)
        await self.session.flush()

    async def delete(self, row: ModelConfigRow) -> None:
        await self.session.delete(row)
