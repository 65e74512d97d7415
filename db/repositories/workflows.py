"""Queries on workflow definitions and their versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import DEFAULT_WORKSPACE, Workflow, WorkflowVersion


class WorkflowRepository:
    """The definitions of one workspace: another's answer as if they did not exist."""

    def __init__(self, session: AsyncSession, workspace: str = DEFAULT_WORKSPACE) -> None:
        self.session = session
        self.workspace = workspace

    async def get(
        self, workflow_id: uuid.UUID, *, include_archived: bool = False
    ) -> Workflow | None:
        workflow = await self.session.get(Workflow, workflow_id)
        if workflow is None or workflow.workspace != self.workspace:
            return None
        if workflow.archived and not include_archived:
            return None
        return workflow

    async def get_live_by_name(self, name: str) -> Workflow | None:
        query = select(Workflow).where(
            Workflow.workspace == self.workspace,
            Workflow.name == name,
            Workflow.archived.is_(False),
        )
        return (await self.session.execute(query)).scalars().first()

    async def list_live(
        self, *, name_contains: str | None, limit: int, offset: int
    ) -> tuple[Sequence[Workflow], int]:
        condition = Workflow.archived.is_(False) & (Workflow.workspace == self.workspace)
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

    async def create(
        self, *, name: str, description: str, spec: dict[str, Any], layout: dict[str, Any] | None
    ) -> tuple[Workflow, WorkflowVersion]:
        """A new workflow and its version 1."""
        now = utcnow()
        workflow = Workflow(
            id=uuid.uuid4(),
            workspace=self.workspace,
            name=name,
            description=description,
            latest_version=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(workflow)
        await self.session.flush()  # the version's foreign key needs the workflow's row
        return workflow, self.add_version(workflow, spec, layout)

    def add_version(
        self, workflow: Workflow, spec: dict[str, Any], layout: dict[str, Any] | None
    ) -> WorkflowVersion:
        """Version n+1 of ``workflow``; earlier versions are never touched."""
        workflow.latest_version += 1
        workflow.updated_at = utcnow()
        version = WorkflowVersion(
            workflow_id=workflow.id,
            version=workflow.latest_version,
            spec=spec,
            layout=layout,
            created_at=workflow.updated_at,
        )
        self.session.add(version)
        return version

    async def add_version_after(
        self,
        workflow: Workflow,
        based_on: int,
        *,
        name: str,
        description: str,
        spec: dict[str, Any],
        layout: dict[str, Any] | None,
    ) -> WorkflowVersion | None:
        """Version ``based_on`` + 1, renamed and described as given, if ``based_on`` is
        still the latest; None if another save came first.

        The check and the claim of the number are one conditional UPDATE: on Postgres a
        second one waits for the first's row lock and then finds the version moved on;
        on SQLite writers take turns on the database lock. A taken name raises
        IntegrityError from the same UPDATE.
        """
        now = utcnow()
        claimed = await self.session.execute(
            update(Workflow)
            .where(Workflow.id == workflow.id, Workflow.latest_version == based_on)
            .values(latest_version=based_on + 1, name=name, description=description, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            return None
        await self.session.refresh(workflow)
        version = WorkflowVersion(
            workflow_id=workflow.id,
            version=based_on + 1,
            spec=spec,
            layout=layout,
            created_at=now,
        )
        self.session.add(version)
        await self.session.flush()
        return version

    async def list_live_latest(self) -> Sequence[tuple[Workflow, WorkflowVersion]]:
        """Every live workflow with its latest version, oldest first."""
        query = (
            select(Workflow, WorkflowVersion)
            .join(
                WorkflowVersion,
                (WorkflowVersion.workflow_id == Workflow.id)
                & (WorkflowVersion.version == Workflow.latest_version),
            )
            .where(Workflow.workspace == self.workspace, Workflow.archived.is_(False))
            .order_by(Workflow.created_at, Workflow.name)
        )
        return [(w, v) for w, v in (await self.session.execute(query)).all()]

    async def get_version(self, workflow_id: uuid.UUID, version: int) -> WorkflowVersion | None:
        query = self._versions(workflow_id).where(WorkflowVersion.version == version)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def get_with_version(
        self, workflow_id: uuid.UUID, version: int | None
    ) -> tuple[Workflow, WorkflowVersion | None] | None:
        """A live definition and one of its versions (the latest when None), in one query:
        None without the definition, no version without that version."""
        number = Workflow.latest_version if version is None else version
        query = (
            select(Workflow, WorkflowVersion)
            .outerjoin(
                WorkflowVersion,
                and_(WorkflowVersion.workflow_id == Workflow.id, WorkflowVersion.version == number),
            )
            .where(
                Workflow.id == workflow_id,
                Workflow.workspace == self.workspace,
                Workflow.archived.is_(False),
            )
        )
        found = (await self.session.execute(query)).first()
        return None if found is None else (found[0], found[1])

    async def list_versions(self, workflow_id: uuid.UUID) -> Sequence[WorkflowVersion]:
        query = self._versions(workflow_id).order_by(WorkflowVersion.version)
        return (await self.session.execute(query)).scalars().all()

    def _versions(self, workflow_id: uuid.UUID) -> Select[tuple[WorkflowVersion]]:
        return (
            select(WorkflowVersion)
            .join(Workflow, Workflow.id == WorkflowVersion.workflow_id)
            .where(WorkflowVersion.workflow_id == workflow_id, Workflow.workspace == self.workspace)
        )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
