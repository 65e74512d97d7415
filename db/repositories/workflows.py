"""Queries on workflow definitions and their versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Workflow, WorkflowVersion


class WorkflowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, workflow_id: uuid.UUID, *, include_archived: bool = False
    ) -> Workflow | None:
        workflow = await self.session.get(Workflow, workflow_id)
        if workflow is None or (workflow.archived and not include_archived):
            return None
        return workflow

    async def get_live_by_name(self, name: str) -> Workflow | None:
        query = select(Workflow).where(Workflow.name == name, Workflow.archived.is_(False))
        return (await self.session.execute(query)).scalars().first()

    async def list_live(
        self, *, name_contains: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Workflow], int]:
        condition = Workflow.archived.is_(False)
        if name_contains:
            condition = condition & Workflow.name.ilike(
                f"%{_escape_like(name_contains)}%", escape="\\"
            )
        total = await self.session.scalar(
            select(func.count()).select_from(Workflow).where(condition)
        )
        query = (
            select(Workflow)
            .where(condition)
            .order_by(Workflow.created_at.desc(), Workflow.name)
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.execute(query)).scalars().all(), total or 0

    def add(self, workflow: Workflow) -> None:
        self.session.add(workflow)

    def add_version(self, version: WorkflowVersion) -> None:
        self.session.add(version)

    async def get_version(self, workflow_id: uuid.UUID, version: int) -> WorkflowVersion | None:
        return await self.session.get(WorkflowVersion, (workflow_id, version))

    async def list_versions(self, workflow_id: uuid.UUID) -> Sequence[WorkflowVersion]:
        query = (
            select(WorkflowVersion)
            .where(WorkflowVersion.workflow_id == workflow_id)
            .order_by(WorkflowVersion.version)
        )
        return (await self.session.execute(query)).scalars().all()

    async def flush(self) -> None:
        await self.session.flush()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
