"""Workspaces and their members. A route under `/workspaces/{workspace_id}` acts in that
workspace: its role check is the principal's role there."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.authorization import Admin, InstanceAdmin, Viewer
from api.deps import SecretsDep, WorkspaceServiceDep
from api.schemas.errors import error_responses
from api.schemas.identity import (
    MemberPut,
    MemberRead,
    UserRead,
    WebhookSecret,
    WorkspaceCreate,
    WorkspaceRead,
)
from api.services.webhook_secrets import SIGNATURE_HEADER, webhook_secret

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


@router.get("", response_model=list[WorkspaceRead])
async def get_all(principal: Viewer, workspaces: WorkspaceServiceDep) -> list[WorkspaceRead]:
    """The workspaces you are a member of, with your role in each."""
    return [
        WorkspaceRead(id=w.id, name=w.name, role=w.role, personal=w.personal)
        for w in await workspaces.accessible(principal.user_id)
    ]


@router.post(
    "",
    response_model=WorkspaceRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422),
)
async def create(
    body: WorkspaceCreate, principal: InstanceAdmin, workspaces: WorkspaceServiceDep
) -> WorkspaceRead:
    """A shared workspace; its creator is its first admin. Admins of `default` create them."""
    created = await workspaces.create(body.name, principal.user_id)
    return WorkspaceRead(
        id=created.id, name=created.name, role=created.role, personal=created.personal
    )


@router.get(
    "/{workspace_id}/members", response_model=list[MemberRead], responses=error_responses(404)
)
async def members(
    workspace_id: str, principal: Viewer, workspaces: WorkspaceServiceDep
) -> list[MemberRead]:
    return [
        MemberRead(user=UserRead(id=user.id, email=user.email, name=user.name), role=role)
        for user, role in await workspaces.members(principal.workspace.id)
    ]


@router.post(
    "/{workspace_id}/members",
    response_model=MemberRead,
    responses=error_responses(400, 404, 422),
)
async def put_member(
    workspace_id: str, body: MemberPut, principal: Admin, workspaces: WorkspaceServiceDep
) -> MemberRead:
    """Add a user (by email) to the workspace with a role, or change their role."""
    user = await workspaces.put_member(principal.workspace.id, body.email, body.role)
    return MemberRead(user=UserRead(id=user.id, email=user.email, name=user.name), role=body.role)


@router.delete(
    "/{workspace_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404, 409),
)
async def remove_member(
    workspace_id: str, user_id: uuid.UUID, principal: Admin, workspaces: WorkspaceServiceDep
) -> None:
    await workspaces.remove_member(principal.workspace.id, user_id)


@router.get(
    "/{workspace_id}/webhook-secret", response_model=WebhookSecret, responses=error_responses(404)
)
async def get_webhook_secret(
    workspace_id: str, principal: Admin, secrets: SecretsDep
) -> WebhookSecret:
    """The secret that signs this workspace's webhooks (`X-Kasal-Signature`): give it to
    the receivers that verify them."""
    return WebhookSecret(
        secret=webhook_secret(secrets, principal.workspace.id), header=SIGNATURE_HEADER
    )
