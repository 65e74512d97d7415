"""Accounts on the server's host: what `kasal user`, `kasal token`, `kasal workspace` and
`kasal dev` do straight on the database, for whoever can read its files anyway."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from api.services.identity import SIGN_IN_LINK_LIFETIME, IdentityService
from api.services.workspaces import WorkspaceService
from db.migrate import upgrade_to_head
from db.models import DEFAULT_WORKSPACE
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.roles import Role

_DURATION = re.compile(r"^(\d+)([dhm])$")


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h` or `45m`."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h or 45m")
    amount, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "m": timedelta(minutes=amount),
    }[unit]


class Accounts:
    """The identity services over the settings' database, migrated first. Made outside
    an event loop: the migration runs one of its own."""

    def __init__(self, settings: Settings) -> None:
        upgrade_to_head(settings.database_url)
        self._engine = create_engine(settings.database_url)
        sessions = session_factory(self._engine)
        self.identity = IdentityService(UnitOfWork(sessions))
        self.workspaces = WorkspaceService(UnitOfWork(sessions))

    async def close(self) -> None:
        await self._engine.dispose()


@dataclass(frozen=True)
class DevSignIn:
    email: str
    link: str
    # A token for the CLI on this machine, made only when it has none.
    cli_token: str | None


async def dev_sign_in(settings: Settings, accounts: Accounts, need_cli_token: bool) -> DevSignIn:
    """The first admin (made on the first start) and a fresh one-time sign-in link."""
    identity = accounts.identity
    async with identity.uow as uow:
        first = await uow.users.first()
    if first is None:
        first = await identity.add_user(
            settings.KASAL_ADMIN_EMAIL, role=Role.ADMIN, workspace=DEFAULT_WORKSPACE
        )
    link = await identity.issue(first.id, "link", lifetime=SIGN_IN_LINK_LIFETIME)
    token = None
    if need_cli_token:
        issued = await identity.issue(first.id, "token", name="kasal dev (CLI)", lifetime=None)
        token = issued.secret
    return DevSignIn(first.email, f"{settings.app_url}/auth/link?token={link.secret}", token)
