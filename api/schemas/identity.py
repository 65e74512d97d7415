"""Bodies of sign-in, the principal, tokens, workspaces, members and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflows.roles import Role


class SignIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    name: str


class WorkspaceRead(BaseModel):
    id: str
    name: str
    role: Role = Field(description="Your role in this workspace")
    personal: bool


class MeRead(BaseModel):
    user: UserRead
    auth: str = Field(description="How this request signed in: session, token, oidc or proxy")
    workspace: WorkspaceRead = Field(description="The workspace this request acts in")
    workspaces: list[WorkspaceRead]


class ChooseWorkspace(BaseModel):
    workspace: str = Field(min_length=1, max_length=100, description="Its id or name")


class TokenCreate(BaseModel):
    name: str = Field(default="", max_length=200)
    expires_in_days: int | None = Field(default=30, ge=1, le=3650)


class TokenRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenRead):
    token: str = Field(description="The secret: shown this once, stored only as a hash")


class WorkspaceCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


# One rule for the schema and the service (api/services/identity.py): no spaces or
# control characters, one @. Control characters are spelled out because JSON Schema's
# \s and Python's disagree on some of them.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+$"


class MemberPut(BaseModel):
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    role: Role


class MemberRead(BaseModel):
    user: UserRead
    role: Role


class AuditRead(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    workspace: str | None
    source_ip: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRead]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page")


class WebhookSecret(BaseModel):
    secret: str = Field(description="HMAC-SHA256 key of the workspace's webhook signatures")
    header: str = Field(description="The header that carries the signature")
