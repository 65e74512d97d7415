"""Queries on users, workspaces, memberships, credentials and the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Credential, Membership, User, WorkspaceRow


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        query = select(User).where(User.email == email.strip().lower())
        return (await self.session.execute(query)).scalar_one_or_none()

    async def count(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(User))).scalar_one()

    async def first(self) -> User | None:
        """The user created first: the admin `kasal dev` made."""
        query = select(User).order_by(User.created_at, User.id).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def insert(self, user: User) -> None:
        self.session.add(user)
        await self.session.flush()

    async def delete(self, user: User) -> None:
        """The user, their memberships and credentials (explicitly: SQLite enforces no
        foreign keys unless asked)."""
        for table in (Membership, Credential):
            await self.session.execute(delete(table).where(table.user_id == user.id))
        await self.session.execute(
            update(WorkspaceRow).where(WorkspaceRow.personal_of == user.id).values(personal_of=None)
        )
        await self.session.delete(user)


class WorkspaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, workspace_id: str) -> WorkspaceRow | None:
        return await self.session.get(WorkspaceRow, workspace_id)

    async def by_id_or_name(self, key: str) -> WorkspaceRow | None:
        query = select(WorkspaceRow).where((WorkspaceRow.id == key) | (WorkspaceRow.name == key))
        return (await self.session.execute(query)).scalars().first()

    async def personal_of(self, user_id: uuid.UUID) -> WorkspaceRow | None:
        query = select(WorkspaceRow).where(WorkspaceRow.personal_of == user_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def insert(self, workspace: WorkspaceRow) -> None:
        self.session.add(workspace)
        await self.session.flush()

    async def memberships_of(self, user_id: uuid.UUID) -> Sequence[tuple[WorkspaceRow, str]]:
        """The user's workspaces with their role in each, by name."""
        query = (
            select(WorkspaceRow, Membership.role)
            .join(Membership, Membership.workspace_id == WorkspaceRow.id)
            .where(Membership.user_id == user_id)
            .order_by(WorkspaceRow.name)
        )
        return [(row, role) for row, role in (await self.session.execute(query)).all()]

    async def membership(self, workspace_id: str, user_id: uuid.UUID) -> Membership | None:
        return await self.session.get(Membership, (workspace_id, user_id))

    async def members(self, workspace_id: str) -> Sequence[tuple[User, str]]:
        query = (
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(User.email)
        )
        return [(user, role) for user, role in (await self.session.execute(query)).all()]

    async def member_emails_with_role(self, workspace_id: str, roles: Sequence[str]) -> list[str]:
        query = (
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id, Membership.role.in_(roles))
            .order_by(User.email)
        )
        return list((await self.session.execute(query)).scalars().all())

    async def put_member(self, workspace_id: str, user_id: uuid.UUID, role: str) -> None:
        existing = await self.membership(workspace_id, user_id)
        if existing is None:
            self.session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
        else:
            existing.role = role
        await self.session.flush()

    async def remove_member(self, membership: Membership) -> None:
        await self.session.delete(membership)


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, credential: Credential) -> None:
        self.session.add(credential)
        await self.session.flush()

    async def by_secret_hash(self, secret_hash: str) -> tuple[Credential, User] | None:
        query = (
            select(Credential, User)
            .join(User, User.id == Credential.user_id)
            .where(Credential.secret_hash == secret_hash)
        )
        found = (await self.session.execute(query)).first()
        return None if found is None else (found[0], found[1])

    async def get(self, credential_id: uuid.UUID) -> Credential | None:
        return await self.session.get(Credential, credential_id)

    async def tokens_of(self, user_id: uuid.UUID) -> Sequence[Credential]:
        query = (
            select(Credential)
            .where(Credential.user_id == user_id, Credential.kind == "token")
            .order_by(Credential.created_at.desc())
        )
        return (await self.session.execute(query)).scalars().all()

    async def end(self, credential_id: uuid.UUID, at: datetime) -> bool:
        """End a credential that is still valid; False when it already ended (a link
        used twice at once is used once)."""
        result = await self.session.execute(
            update(Credential)
            .where(Credential.id == credential_id, Credential.ended_at.is_(None))
            .values(ended_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class AuditRepository:
    """Append-only: inserts and reads, nothing else."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def append(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def page(
        self, *, before: int | None, limit: int, workspace: str | None
    ) -> Sequence[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        if workspace is not None:
            query = query.where(AuditEntry.workspace == workspace)
        return (await self.session.execute(query)).scalars().all()
