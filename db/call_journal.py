"""The call journal: every LLM and tool call of a step, written before its result is used.

A retried attempt of the same step execution replays it: the same request at the same
place gets the recorded answer, and only calls that never finished are made again. A
call that is not idempotent is first written as an *intent*; a retry that finds an
intent without a result does not call again (see activities/journal.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repositories.call_journal import CallJournalRepository, CallKey

JournalCursor = tuple[datetime, uuid.UUID]
_Work = Callable[[CallJournalRepository], Awaitable[None]]

INTENT = "intent"
DONE = "done"


class Journaled:
    """A journal row as the worker reads it."""

    def __init__(self, status: str, record: dict[str, Any] | None) -> None:
        self.status, self.record = status, record


@dataclass(frozen=True)
class JournalChange:
    """A row as the run's event stream sends it: a call started (intent) or finished."""

    step_id: str
    execution: int
    kind: str
    call_index: int
    status: str
    record: dict[str, Any] | None
    cursor: JournalCursor


class CallJournal:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # SQLite has one writer at a time (see db/blobs.py): writers queue here.
        bind = sessions.kw.get("bind")
        self._write_lock = (
            asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None
        )

    async def find(self, key: CallKey) -> Journaled | None:
        async with self._sessions() as session:
            row = await CallJournalRepository(session).find(key)
            return None if row is None else Journaled(row.status, row.record)

    async def intend(self, key: CallKey, attempt: int, record: dict[str, Any]) -> None:
        """Say, durably, that this call is about to be made (``record``: what it asks)."""

        async def write(repo: CallJournalRepository) -> None:
            await repo.insert_if_absent(key, status=INTENT, attempt=attempt, record=record)

        await self._write(write)

    async def record(self, key: CallKey, attempt: int, record: dict[str, Any]) -> None:
        """Keep a finished call's record, over its intent if there was one."""

        async def write(repo: CallJournalRepository) -> None:
            await repo.insert_if_absent(key, status=DONE, attempt=attempt, record=record)
            await repo.finish(key, attempt=attempt, record=record)

        await self._write(write)

    async def changes_after(
        self, run_id: str, cursor: JournalCursor | None, limit: int = 200
    ) -> list[JournalChange]:
        """The run's calls started or finished after ``cursor``, oldest first."""
        async with self._sessions() as session:
            rows = await CallJournalRepository(session).changed_after(run_id, cursor, limit)
            return [
                JournalChange(
                    step_id=row.step_id,
                    execution=row.execution,
                    kind=row.kind,
                    call_index=row.call_index,
                    status=row.status,
                    record=row.record,
                    cursor=(row.updated_at, row.id),
                )
                for row in rows
            ]

    async def last_change(self, run_id: str) -> JournalCursor | None:
        """Where the run's calls stand now: a cursor for changes_after."""
        async with self._sessions() as session:
            return await CallJournalRepository(session).last_change(run_id)

    async def _write(self, work: _Work) -> None:
        if self._write_lock is None:
            await self._transaction(work)
            return
        async with self._write_lock:
            await self._transaction(work)

    async def _transaction(self, work: _Work) -> None:
        async with self._sessions() as session, session.begin():
            await work(CallJournalRepository(session))
