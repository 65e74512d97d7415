"""The principal: who they are, their workspaces, and their personal API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, status

from api.authorization import Viewer
from api.deps import IdentityServiceDep, WorkspaceServiceDep
from api.errors import BadRequest
from api.schemas.errors import error_responses
from api.schemas.identity import (
    ChooseWorkspace,
    MeRead,
    TokenCreate,
    TokenIssued,
    TokenRead,
    UserRead,
    WorkspaceRead,
)
from api.services.workspaces import WorkspaceAccess
from db.models import Credential

router = APIRouter(tags=["me"])


@router.get("/me", response_model=MeRead)
async def me(principal: Viewer, workspaces: WorkspaceServiceDep) -> MeRead:
    return MeRead(
        user=UserRead(id=principal.user_id, email=principal.email, name=principal.name),
        auth=principal.via,
        workspace=_workspace(principal.workspace),
        workspaces=[_workspace(w) for w in await workspaces.accessible(principal.user_id)],
    )


@router.put("/me/workspace", response_model=WorkspaceRead, responses=error_responses(400, 404))
async def choose_workspace(
    body: ChooseWorkspace,
    principal: Viewer,
    workspaces: WorkspaceServiceDep,
    identity: IdentityServiceDep,
) -> WorkspaceRead:
    """Make a workspace this session's (or API token's) own: the UI and its event streams
    then act in it without sending `X-Kasal-Workspace`."""
    if principal.credential_id is None:
        raise BadRequest("only a session or an API token remembers a workspace")
    chosen = await workspaces.select(principal.user_id, body.workspace, None)
    await identity.choose_workspace(principal.credential_id, chosen.id)
    return _workspace(chosen)


@router.get("/me/tokens", response_model=list[TokenRead])
async def tokens(principal: Viewer, identity: IdentityServiceDep) -> list[TokenRead]:
    return [_token(c) for c in await identity.tokens_of(principal.user_id)]


@router.post(
    "/me/tokens",
    response_model=TokenIssued,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 422),
)
async def create_token(
    body: TokenCreate, principal: Viewer, identity: IdentityServiceDep
) -> TokenIssued:
    """A personal API token for scripts and CI: `Authorization: Bearer kasal_…`."""
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    issued = await identity.issue(principal.user_id, "token", name=body.name, lifetime=lifetime)
    return TokenIssued(**_token(issued.credential).model_dump(), token=issued.secret)


@router.delete(
    "/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def revoke_token(
    token_id: uuid.UUID, principal: Viewer, identity: IdentityServiceDep
) -> None:
    await identity.revoke_token(principal.user_id, token_id)


def _workspace(access: WorkspaceAccess) -> WorkspaceRead:
    return WorkspaceRead(id=access.id, name=access.name, role=access.role, personal=access.personal)


def _token(credential: Credential) -> TokenRead:
    return TokenRead(
        id=credential.id,
        name=credential.name,
        created_at=credential.created_at,
        expires_at=credential.expires_at,
        revoked_at=credential.ended_at,
    )
