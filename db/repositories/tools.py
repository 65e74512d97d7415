"""Queries on custom HTTP tools and MCP servers, each within one workspace."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.models import DEFAULT_WORKSPACE, McpServerRow, ToolRow


async def _claim_next_version(session: AsyncSession, row: ToolRow | McpServerRow) -> bool:
    """Move the stored row from the version ``row`` was read at to the next one, only if
    no one else did since: of two updates based on one version, one gets the next."""
    table = type(row)
    result = await session.execute(
        update(table)
        .where(
            table.workspace == row.workspace,
            table.name == row.name,
            table.version == row.version,
        )
        .values(version=row.version + 1)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return False
    set_committed_value(row, "version", row.version + 1)
    return True


class ToolRepository:
    def __init__(self, session: AsyncSession, workspace: str = DEFAULT_WORKSPACE) -> None:
        self.session = session
        self.workspace = workspace

    async def get(self, name: str) -> ToolRow | None:
        return await self.session.get(ToolRow, (self.workspace, name))

    async def list(self) -> Sequence[ToolRow]:
        query = select(ToolRow).where(ToolRow.workspace == self.workspace).order_by(ToolRow.name)
        return (await self.session.execute(query)).scalars().all()

    async def insert(self, row: ToolRow) -> None:
        """Write the row now, so a taken name fails here (IntegrityError), not at commit."""
        row.workspace = self.workspace
        self.session.add(row)
        await self.session.flush()

    async def claim_next_version(self, row: ToolRow) -> bool:
        return await _claim_next_version(self.session, row)

    async def delete(self, row: ToolRow) -> None:
        await self.session.delete(row)


class McpServerRepository:
    def __init__(self, session: AsyncSession, workspace: str = DEFAULT_WORKSPACE) -> None:
        self.session = session
        self.workspace = workspace

    async def get(self, name: str) -> McpServerRow | None:
        return await self.session.get(McpServerRow, (self.workspace, name))

    async def list(self) -> Sequence[McpServerRow]:
        query = (
            select(McpServerRow)
            .where(McpServerRow.workspace == self.workspace)
            .order_by(McpServerRow.name)
        )
        return (await self.session.execute(query)).scalars().all()

    async def insert(self, row: McpServerRow) -> None:
        """Write the row now, so a taken name fails here (IntegrityError), not at commit."""
        row.workspace = self.workspace
        self.session.add(row)
        await self.session.flush()

    async def claim_next_version(self, row: McpServerRow) -> bool:
        return await _claim_next_version(self.session, row)

    async def delete(self, row: McpServerRow) -> None:
        await self.session.delete(row)
