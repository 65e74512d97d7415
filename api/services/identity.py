"""Users and the secrets they sign in with: passwords, sessions, API tokens, sign-in links.

Only a secret's sha256 is stored. Passwords are argon2 (pwdlib), hashed off the event
loop: one hash takes tens of milliseconds of CPU.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError

from api.errors import BadRequest, NotFound
from api.schemas.identity import EMAIL_PATTERN
from db.base import utcnow
from db.models import DEFAULT_WORKSPACE, Credential, User, WorkspaceRow
from db.uow import UnitOfWork
from workflows.roles import Role

TOKEN_PREFIX = "kasal_"
SIGN_IN_LINK_LIFETIME = timedelta(hours=24)
MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(EMAIL_PATTERN)

_passwords = PasswordHash.recommended()
# Verified when the email is unknown, so that a miss takes as long as a wrong password.
_DUMMY_HASH = _passwords.hash(secrets.token_urlsafe(16))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalized_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 320:
        raise BadRequest(f"{email!r} is not an email address")
    return email


@dataclass(frozen=True)
class Issued:
    """A credential just made: its secret is shown this once and never again."""

    credential: Credential
    secret: str


class IdentityService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def add_user(
        self,
        email: str,
        *,
        role: Role = Role.VIEWER,
        workspace: str = DEFAULT_WORKSPACE,
        password: str | None = None,
        name: str = "",
    ) -> User:
        """A user with a personal workspace, and ``role`` in ``workspace``. Adding an
        existing user gives them that role there (so the command is safe to repeat)."""
        email = normalized_email(email)
        password_hash = await _hash_password(password) if password is not None else None
        async with self.uow as uow:
            target = await uow.workspaces.by_id_or_name(workspace)
            if target is None:
                raise NotFound(f"no workspace {workspace!r}")
            user = await uow.users.by_email(email)
            if user is None:
                user = User(email=email, name=name or email.split("@")[0])
                user.password_hash = password_hash
                await uow.users.insert(user)
                personal = WorkspaceRow(
                    id=f"personal-{user.id.hex[:12]}", name=email[:100], personal_of=user.id
                )
                await uow.workspaces.insert(personal)
                await uow.workspaces.put_member(personal.id, user.id, Role.ADMIN)
            elif password_hash is not None:
                user.password_hash = password_hash
            await uow.workspaces.put_member(target.id, user.id, role)
            return user

    async def provision(self, email: str, *, name: str = "") -> User:
        """The user an identity provider vouches for, created (a viewer of `default`) on
        their first request."""
        async with self.uow as uow:
            user = await uow.users.by_email(normalized_email(email))
        if user is not None:
            return user
        try:
            return await self.add_user(email, name=name)
        except IntegrityError:  # their first two requests raced; one created them
            async with self.uow as uow:
                found = await uow.users.by_email(normalized_email(email))
            if found is None:
                raise
            return found

    async def set_password(self, email: str, password: str) -> None:
        password_hash = await _hash_password(password)
        async with self.uow as uow:
            user = await uow.users.by_email(normalized_email(email))
            if user is None:
                raise NotFound(f"no user {email!r}")
            user.password_hash = password_hash

    async def check_password(self, email: str, password: str) -> User | None:
        """The user, when the password is theirs."""
        async with self.uow as uow:
            user = await uow.users.by_email(email.strip().lower())
        stored = user.password_hash if user is not None else None
        matches = await asyncio.to_thread(_passwords.verify, password, stored or _DUMMY_HASH)
        return user if matches and stored is not None else None

    async def issue(
        self,
        user_id: uuid.UUID,
        kind: str,
        *,
        name: str = "",
        lifetime: timedelta | None,
        workspace_id: str | None = None,
    ) -> Issued:
        secret = secrets.token_urlsafe(32)
        if kind == "token":
            secret = TOKEN_PREFIX + secret
        now = utcnow()
        credential = Credential(
            kind=kind,
            user_id=user_id,
            secret_hash=secret_hash(secret),
            name=name,
            workspace_id=workspace_id,
            created_at=now,
            expires_at=now + lifetime if lifetime is not None else None,
        )
        async with self.uow as uow:
            await uow.credentials.insert(credential)
        return Issued(credential, secret)

    async def resolve(self, secret: str, kinds: tuple[str, ...]) -> tuple[Credential, User] | None:
        """The credential and its user, while it is valid."""
        async with self.uow as uow:
            found = await uow.credentials.by_secret_hash(secret_hash(secret))
        if found is None:
            return None
        credential, user = found
        if credential.kind not in kinds or not _valid(credential, utcnow()):
            return None
        return credential, user

    async def redeem_link(self, secret: str) -> User | None:
        """The user a one-time sign-in link is for; the link is then used up."""
        found = await self.resolve(secret, ("link",))
        if found is None:
            return None
        credential, user = found
        async with self.uow as uow:
            if not await uow.credentials.end(credential.id, utcnow()):
                return None  # the same link, redeemed at the same moment elsewhere
        return user

    async def end(self, credential_id: uuid.UUID) -> None:
        async with self.uow as uow:
            await uow.credentials.end(credential_id, utcnow())

    async def tokens_of(self, user_id: uuid.UUID) -> list[Credential]:
        async with self.uow as uow:
            return list(await uow.credentials.tokens_of(user_id))

    async def revoke_token(self, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
        async with self.uow as uow:
            credential = await uow.credentials.get(token_id)
            # Someone else's token is as absent as a made-up id.
            if credential is None or credential.user_id != user_id or credential.kind != "token":
                raise NotFound(f"no token {token_id}")
            await uow.credentials.end(token_id, utcnow())

    async def choose_workspace(self, credential_id: uuid.UUID, workspace_id: str) -> None:
        async with self.uow as uow:
            credential = await uow.credentials.get(credential_id)
            if credential is not None:
                credential.workspace_id = workspace_id

    async def delete_user(self, user_id: uuid.UUID) -> str:
        """Delete the user with their credentials and memberships; their email stays in
        the audit log. Their personal workspace and what is in it stay, ownerless."""
        async with self.uow as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            await uow.users.delete(user)
            return user.email


def _valid(credential: Credential, now: datetime) -> bool:
    return credential.ended_at is None and (
        credential.expires_at is None or credential.expires_at > now
    )


async def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return await asyncio.to_thread(_passwords.hash, password)
