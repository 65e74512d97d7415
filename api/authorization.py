"""Who is asking, in which workspace, and whether their role there allows the route.

Every `/api/v1` route takes exactly one :class:`Allow` (create_app refuses to start
otherwise), through the ``Viewer`` … ``Admin`` annotations below. It is the only place
that checks roles; services scope their queries by the principal's workspace.

A principal comes from, in order: ``Authorization: Bearer kasal_…`` (a personal API
token), ``Authorization: Bearer <JWT>`` (``KASAL_AUTH=oidc``), the ``kasal_session``
cookie, or (``KASAL_AUTH=proxy``) the ``X-Forwarded-Email`` header of a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request

from api.errors import Forbidden, Unauthenticated
from api.services.identity import TOKEN_PREFIX, IdentityService
from api.services.workspaces import WorkspaceAccess, WorkspaceService
from db.models import DEFAULT_WORKSPACE, AuditEntry, User
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.roles import Role

SESSION_COOKIE = "kasal_session"
WORKSPACE_HEADER = "X-Kasal-Workspace"
# The key under which the OpenAPI document gives each operation's minimum role.
ROLE_EXTENSION = "x-kasal-role"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    email: str
    name: str
    via: str  # "session" | "token" | "oidc" | "proxy"
    credential_id: uuid.UUID | None
    workspace: WorkspaceAccess

    @property
    def role(self) -> Role:
        return self.workspace.role


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.sessions)


@dataclass(frozen=True)
class _Identified:
    user: User
    via: str
    credential_id: uuid.UUID | None
    remembered_workspace: str | None


async def _by_credential(request: Request, uow: UnitOfWork) -> _Identified | None:
    """Who an API token or a session cookie is, inside ``uow``; None when neither came.

    Raises Unauthenticated for an unknown token, or for a bearer that is not a token
    where only tokens are taken."""
    identity = IdentityService(uow)
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential:
        if credential.startswith(TOKEN_PREFIX):
            found = await identity.resolve(credential, ("token",))
            if found is None:
                raise Unauthenticated("this API token is unknown, revoked or expired")
            return _Identified(found[1], "token", found[0].id, found[0].workspace_id)
        if _settings(request).KASAL_AUTH != "oidc":
            raise Unauthenticated("a bearer credential must be a Kasal API token (kasal_…)")
        return None
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        found = await identity.resolve(session, ("session",))
        if found is not None:
            return _Identified(found[1], "session", found[0].id, found[0].workspace_id)
    return None


async def _vouched_for(request: Request) -> _Identified:
    """The user an identity provider (an OIDC bearer) or a trusted proxy vouches for,
    created on their first request: in transactions of their own, since two first
    requests may race to create them."""
    settings = _settings(request)
    identity = IdentityService(_uow(request))
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if settings.KASAL_AUTH == "oidc" and scheme.lower() == "bearer" and credential:
        user = await request.app.state.oidc.user_from_bearer(credential, identity)
        return _Identified(user, "oidc", None, None)
    if settings.KASAL_AUTH == "proxy":
        email = request.headers.get("x-forwarded-email")
        if email and _from_trusted_proxy(request, settings):
            name = request.headers.get("x-forwarded-preferred-username", "")
            user = await identity.provision(email, name=name)
            return _Identified(user, "proxy", None, None)
    raise Unauthenticated("sign in, or send an API token as `Authorization: Bearer kasal_…`")


def _from_trusted_proxy(request: Request, settings: Settings) -> bool:
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    for entry in filter(None, (part.strip() for part in settings.KASAL_TRUSTED_PROXY.split(","))):
        if address in ipaddress.ip_network(entry, strict=False):
            return True
    return False


async def authenticate(request: Request) -> Principal:
    """The principal and the workspace this request acts in (see WorkspaceService.select).
    A route with a ``{workspace_id}`` acts in that workspace.

    A token or a session and its workspace are read in one transaction."""
    asked = request.path_params.get("workspace_id") or request.headers.get(WORKSPACE_HEADER)
    uow = _uow(request)
    async with uow:
        identified = await _by_credential(request, uow)
        if identified is not None:
            workspace = await _workspace(uow, identified, asked)
    if identified is None:
        identified = await _vouched_for(request)
        workspace = await _workspace(_uow(request), identified, asked)
    return Principal(
        identified.user.id,
        identified.user.email,
        identified.user.name,
        identified.via,
        identified.credential_id,
        workspace,
    )


async def _workspace(
    uow: UnitOfWork, identified: _Identified, asked: str | None
) -> WorkspaceAccess:
    return await WorkspaceService(uow).select(
        identified.user.id, asked, identified.remembered_workspace
    )


class Allow:
    """The one authorization dependency: a principal whose role is at least ``role``.

    Cookie sessions also pass an Origin check on unsafe methods (CSRF; the cookie is
    ``SameSite=Lax`` as well). Successful changes are written to the audit log.
    ``cross_origin_temporal_web`` also admits Temporal Web's origin (the codec server)."""

    def __init__(
        self,
        role: Role,
        *,
        in_workspace: str | None = None,
        cross_origin_temporal_web: bool = False,
        audited: bool = True,
    ) -> None:
        self.role = role
        # The role is checked in this workspace, whichever the request acts in (the
        # instance's admins are the admins of `default`).
        self.in_workspace = in_workspace
        self.cross_origin_temporal_web = cross_origin_temporal_web
        # Changes and operations are audited; a POST that only reads (decoding payloads
        # for Temporal Web, many a page) is not.
        self.audited = audited

    async def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> AsyncIterator[Principal]:
        unsafe = request.method not in _SAFE_METHODS
        if unsafe and principal.via == "session":
            self._check_origin(request)
        workspace = principal.workspace
        if self.in_workspace is not None and workspace.id != self.in_workspace:
            workspace = await _membership(request, principal.user_id, self.in_workspace)
        if workspace is None or not workspace.role.at_least(self.role):
            held = workspace.role.value if workspace else "not a member"
            name = workspace.name if workspace else self.in_workspace
            raise Forbidden(
                f"this needs the role {self.role.value} in workspace {name!r}; you are {held}"
            )
        yield principal
        if unsafe and self.audited:
            await record(request, principal.email, principal.workspace.id, via=principal.via)

    def _check_origin(self, request: Request) -> None:
        settings = _settings(request)
        origin = request.headers.get("origin") or _origin_of(request.headers.get("referer"))
        allowed = {_origin_of(str(request.base_url)), _origin_of(settings.app_url)}
        if self.cross_origin_temporal_web:
            allowed.add(_origin_of(settings.temporal_ui_url))
        if origin is None or origin not in allowed:
            raise Forbidden("a cookie-authenticated change must come from Kasal's own origin")


async def _membership(
    request: Request, user_id: uuid.UUID, workspace_id: str
) -> WorkspaceAccess | None:
    for access in await WorkspaceService(_uow(request)).accessible(user_id):
        if access.id == workspace_id:
            return access
    return None


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


async def record(
    request: Request, actor: str, workspace: str | None, *, via: str, action: str | None = None
) -> None:
    """Append what ``actor`` just did to the audit log."""
    route = request.scope.get("route")
    # The operation's id in the OpenAPI document (tag-name, as api/main.py names them).
    tags = getattr(route, "tags", None) or ["api"]
    operation = f"{tags[0]}-{getattr(route, 'name', request.method)}"
    entry = AuditEntry(
        actor=actor,
        action=action or operation,
        target=request.url.path,
        workspace=workspace,
        source_ip=request.client.host if request.client else None,
        detail={"via": via, **request.path_params},
    )
    async with _uow(request) as uow:
        uow.audit.append(entry)


def allow(role: Role, **options: Any) -> Any:
    """``Depends(Allow(role))`` whose audit entry is written before the response is sent:
    an entry that cannot be written (no free database connection) fails the request with
    a 503, rather than vanish after a 2xx."""
    return Depends(Allow(role, **options), scope="function")


Viewer = Annotated[Principal, allow(Role.VIEWER)]
Operator = Annotated[Principal, allow(Role.OPERATOR)]
Editor = Annotated[Principal, allow(Role.EDITOR)]
Admin = Annotated[Principal, allow(Role.ADMIN)]
# An admin of the shared workspace `default`: creates workspaces, deletes users.
InstanceAdmin = Annotated[Principal, allow(Role.ADMIN, in_workspace=DEFAULT_WORKSPACE)]
# The codec server: Temporal Web calls it from its own origin, with the admin's cookie.
CodecAdmin = Annotated[Principal, allow(Role.ADMIN, cross_origin_temporal_web=True, audited=False)]
