"""A model config's limits on its calls (``max_concurrency``, ``rpm``), held across every
worker in the database they share.

Each call takes a lease before it is made: it may when fewer than ``max_concurrency``
leases of the config are in flight and fewer than ``rpm`` started in the last minute.
The lease is released when the call ends, and expires on its own if its worker dies.
Leases are taken one at a time per config: on Postgres under an advisory lock, so two
workers never both take the last slot; on SQLite under the store's one-writer lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import ModelCallLeaseRow

RPM_WINDOW = timedelta(minutes=1)
# How often a call that must wait looks again, at most.
MAX_WAIT = timedelta(seconds=1)


@dataclass(frozen=True)
class CallLimits:
    workspace: str
    config_name: str
    max_concurrency: int | None
    rpm: int | None

    @property
    def limited(self) -> bool:
        return self.max_concurrency is not None or self.rpm is not None


class ModelLimiter:
    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        writing: Callable[[], AbstractAsyncContextManager[Any]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions, self._writing, self._clock = sessions, writing, clock

    async def take(self, limits: CallLimits, longest: timedelta) -> uuid.UUID | None:
        """A lease for one call, once the limits allow it (None when there are none); a
        lease whose worker died frees its slot after ``longest``."""
        if not limits.limited:
            return None
        while True:
            taken = await self.try_take(limits, longest)
            if isinstance(taken, uuid.UUID):
                return taken
            await asyncio.sleep(min(taken, MAX_WAIT).total_seconds())

    async def try_take(self, limits: CallLimits, longest: timedelta) -> uuid.UUID | timedelta:
        """A lease, or how long to wait before asking again."""
        now = self._clock()
        async with self._writing(), self._sessions() as session, session.begin():
            await _lock(session, limits)
            mine = (
                ModelCallLeaseRow.workspace == limits.workspace,
                ModelCallLeaseRow.config_name == limits.config_name,
            )
            # Leases that neither hold a slot nor count for rpm any more go.
            await session.execute(
                delete(ModelCallLeaseRow).where(
                    *mine,
                    ModelCallLeaseRow.started_at <= now - RPM_WINDOW,
                    (ModelCallLeaseRow.released) | (ModelCallLeaseRow.expires_at < now),
                )
            )
            wait = await _wait(session, mine, limits, now)
            if wait is not None:
                return wait
            lease = ModelCallLeaseRow(
                workspace=limits.workspace,
                config_name=limits.config_name,
                started_at=now,
                expires_at=now + longest,
                released=False,
            )
            session.add(lease)
            await session.flush()
            return lease.id

    async def release(self, lease_id: uuid.UUID) -> None:
        """The call ended: its slot is free; its start still counts for rpm a minute."""
        async with self._writing(), self._sessions() as session, session.begin():
            await session.execute(
                update(ModelCallLeaseRow)
                .where(ModelCallLeaseRow.id == lease_id)
                .values(released=True)
            )


async def _wait(
    session: AsyncSession, mine: tuple[Any, ...], limits: CallLimits, now: datetime
) -> timedelta | None:
    if limits.max_concurrency is not None:
        in_flight = await session.scalar(
            select(func.count()).where(
                *mine, ~ModelCallLeaseRow.released, ModelCallLeaseRow.expires_at >= now
            )
        )
        if (in_flight or 0) >= limits.max_concurrency:
            return MAX_WAIT
    if limits.rpm is not None:
        window = now - RPM_WINDOW
        starts = (
            await session.scalars(
                select(ModelCallLeaseRow.started_at)
                .where(*mine, ModelCallLeaseRow.started_at > window)
                .order_by(ModelCallLeaseRow.started_at)
            )
        ).all()
        if len(starts) >= limits.rpm:
            # Until the oldest start that must leave the window is a minute old.
            return max(starts[len(starts) - limits.rpm] + RPM_WINDOW - now, timedelta(0))
    return None


async def _lock(session: AsyncSession, limits: CallLimits) -> None:
    """One lease taken at a time per config, across workers: a Postgres advisory lock
    until the transaction ends (SQLite has one writer at a time already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{limits.workspace}\0{limits.config_name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
