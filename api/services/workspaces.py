"""Workspaces and their members: which one a request acts in, and who may do what there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from api.errors import Conflict, NotFound
from api.services.identity import normalized_email
from db.models import DEFAULT_WORKSPACE, User, WorkspaceRow
from db.uow import UnitOfWork
from workflows.roles import Role


@dataclass(frozen=True)
class WorkspaceAccess:
    """A workspace and the principal's role in it."""

    id: str
    name: str
    role: Role
    personal: bool


class WorkspaceService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def accessible(self, user_id: uuid.UUID) -> list[WorkspaceAccess]:
        async with self.uow as uow:
            rows = await uow.workspaces.memberships_of(user_id)
        return [_access(row, role) for row, role in rows]

    async def select(
        self, user_id: uuid.UUID, asked: str | None, remembered: str | None
    ) -> WorkspaceAccess:
        """The workspace a request acts in: the one it names (id or name), else the one
        its session chose, else `default` for its members, else the personal one.

        A workspace the user is not a member of answers as if it did not exist."""
        workspaces = await self.accessible(user_id)
        if asked is not None:
            for access in workspaces:
                if asked in (access.id, access.name):
                    return access
            raise NotFound(f"no workspace {asked!r}")
        by_id = {access.id: access for access in workspaces}
        for candidate in (remembered, DEFAULT_WORKSPACE):
            if candidate is not None and candidate in by_id:
                return by_id[candidate]
        personal = [access for access in workspaces if access.personal]
        if personal:
            return personal[0]
        raise NotFound("this user belongs to no workspace")

    async def create(self, name: str, creator: uuid.UUID) -> WorkspaceAccess:
        async with self.uow as uow:
            if await uow.workspaces.by_id_or_name(name) is not None:
                raise Conflict(f"a workspace named {name!r} exists")
            row = WorkspaceRow(id=f"ws-{uuid.uuid4().hex[:12]}", name=name)
            await uow.workspaces.insert(row)
            await uow.workspaces.put_member(row.id, creator, Role.ADMIN)
        return _access(row, Role.ADMIN)

    async def members(self, workspace_id: str) -> list[tuple[User, Role]]:
        async with self.uow as uow:
            return [(user, Role(role)) for user, role in await uow.workspaces.members(workspace_id)]

    async def put_member(self, workspace_id: str, email: str, role: Role) -> User:
        async with self.uow as uow:
            user = await uow.users.by_email(normalized_email(email))
            if user is None:
                raise NotFound(f"no user {email!r}: add them first (`kasal user add`)")
            await uow.workspaces.put_member(workspace_id, user.id, role)
            return user

    async def remove_member(self, workspace_id: str, user_id: uuid.UUID) -> None:
        async with self.uow as uow:
            workspace = await uow.workspaces.get(workspace_id)
            membership = await uow.workspaces.membership(workspace_id, user_id)
            if workspace is None or membership is None:
                raise NotFound(f"no member {user_id} in this workspace")
            if workspace.personal_of == user_id:
                raise Conflict("nobody leaves their personal workspace")
            await uow.workspaces.remove_member(membership)

    async def emails_with_role(self, workspace_id: str, at_least: Role) -> list[str]:
        roles = [role.value for role in Role if role.at_least(at_least)]
        async with self.uow as uow:
            return await uow.workspaces.member_emails_with_role(workspace_id, roles)


def _access(row: WorkspaceRow, role: str) -> WorkspaceAccess:
    return WorkspaceAccess(row.id, row.name, Role(role), row.personal_of is not None)
