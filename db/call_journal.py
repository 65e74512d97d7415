"""The call journal: every LLM and tool call of a step, written before its result is used.

A retried attempt of the same step execution replays it: the same request at the same
place gets the recorded answer, and only calls that never finished are made again. A
call that is not idempotent is first written as an *intent*; a retry that finds an
intent without a result does not call again (see activities/journal.py).

Records hold prompts, replies and tool results, so with the blob store's cipher they are
stored encrypted like blobs (db/blob_cipher.py), bound to their run: ``{"sealed": …}``.
Records written before stay readable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.blob_cipher import open_text
from db.blobs import BlobStore
from db.models import LlmUsageRow
from db.repositories.call_journal import CallJournalRepository, CallKey
from db.repositories.usage import UsageRepository

JournalCursor = tuple[datetime, uuid.UUID]
_Work = Callable[[CallJournalRepository], Awaitable[None]]

INTENT = "intent"
DONE = "done"
# The kind a sealed record is bound to, with its run id.
JOURNAL_KIND = "call"
SEALED = "sealed"


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
    attempt: int  # the attempt that made the call (or, for an intent, means to)
    record: dict[str, Any] | None
    cursor: JournalCursor


class CallJournal:
    """The journal of the blob store's database; its writes queue with the store's."""

    def __init__(self, blobs: BlobStore) -> None:
        self._sessions: async_sessionmaker[AsyncSession] = blobs.sessions
        self._blobs = blobs

    async def find(self, key: CallKey) -> Journaled | None:
        async with self._sessions() as session:
            row = await CallJournalRepository(session).find(key)
            return (
                None if row is None else Journaled(row.status, self._open(row.record, key.run_id))
            )

    async def intend(self, key: CallKey, attempt: int, record: dict[str, Any]) -> None:
        """Say, durably, that this call is about to be made (``record``: what it asks)."""

        async def write(repo: CallJournalRepository) -> None:
            sealed = self._seal(record, key.run_id)
            await repo.insert_if_absent(key, status=INTENT, attempt=attempt, record=sealed)

        await self._write(write)

    async def record(
        self,
        key: CallKey,
        attempt: int,
        record: dict[str, Any],
        usage: LlmUsageRow | None = None,
    ) -> None:
        """Keep a finished call's record, over its intent if there was one, and with it,
        in the same transaction, the usage row of an LLM call that was made now."""

        async def write(repo: CallJournalRepository) -> None:
            await repo.finish(key, attempt=attempt, record=self._seal(record, key.run_id))
            if usage is not None:
                UsageRepository(repo.session, usage.workspace).add(usage)

        await self._write(write)

    async def copy_steps(self, from_run: str, to_run: str, step_ids: list[str]) -> None:
        """Give a fork the calls of the steps it reuses, so their transcripts read the same
        and outlive the parent; copying twice (a repeated request) adds nothing."""

        async def write(repo: CallJournalRepository) -> None:
            for row in await repo.of_steps(from_run, step_ids):
                key = CallKey(
                    run_id=to_run,
                    step_id=row.step_id,
                    execution=row.execution,
                    kind=row.kind,
                    call_index=row.call_index,
                    request_hash=row.request_hash,
                )
                # Sealed records are bound to their run: opened, and sealed for the fork.
                record = self._open(row.record, from_run)
                await repo.insert_if_absent(
                    key,
                    status=row.status,
                    attempt=row.attempt,
                    record=None if record is None else self._seal(record, to_run),
                )

        if step_ids:
            await self._write(write)

    async def delete_runs(self, run_ids: list[str], created_before: datetime) -> int:
        """Delete the calls of runs Temporal has dropped (db/retention.py decides which)."""
        deleted = 0

        async def write(repo: CallJournalRepository) -> None:
            nonlocal deleted
            deleted = await repo.delete_runs(run_ids, created_before)

        if run_ids:
            await self._write(write)
        return deleted

    async def calls_of_execution(
        self, run_id: str, step_id: str, execution: int
    ) -> dict[tuple[str, int, str], Journaled]:
        """One step execution's calls, by (kind, call index, request hash)."""
        async with self._sessions() as session:
            rows = await CallJournalRepository(session).of_execution(run_id, step_id, execution)
            return {
                (row.kind, row.call_index, row.request_hash): Journaled(
                    row.status, self._open(row.record, run_id)
                )
                for row in rows
            }

    async def calls_of_executions(
        self, run_id: str, executions: set[tuple[str, int]]
    ) -> dict[tuple[str, int], dict[tuple[str, int, str], Journaled]]:
        """Several step executions' calls, by (step id, execution), in one query: a run's
        page reads every step's, and a query a step took it 25 s at 384 steps."""
        if not executions:
            return {}
        async with self._sessions() as session:
            rows = await CallJournalRepository(session).of_steps(
                run_id, sorted({step_id for step_id, _ in executions})
            )
        calls: dict[tuple[str, int], dict[tuple[str, int, str], Journaled]] = {
            execution: {} for execution in executions
        }
        for row in rows:
            if (row.step_id, row.execution) in calls:
                calls[(row.step_id, row.execution)][
                    (row.kind, row.call_index, row.request_hash)
                ] = Journaled(row.status, self._open(row.record, run_id))
        return calls

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
                    attempt=row.attempt,
                    record=self._open(row.record, run_id),
                    cursor=(row.updated_at, row.id),
                )
                for row in rows
            ]

    async def last_change(self, run_id: str) -> JournalCursor | None:
        """Where the run's calls stand now: a cursor for changes_after."""
        async with self._sessions() as session:
            return await CallJournalRepository(session).last_change(run_id)

    def _seal(self, record: dict[str, Any], run_id: str) -> dict[str, Any]:
        cipher = self._blobs.cipher
        if cipher is None:
            return record
        text = json.dumps(record, separators=(",", ":"))
        return {SEALED: cipher.seal_text(text, kind=JOURNAL_KIND, run_id=run_id)}

    def _open(self, record: dict[str, Any] | None, run_id: str) -> dict[str, Any] | None:
        if record is None or set(record) != {SEALED}:
            return record  # written before encryption, or by a store without a cipher
        text = open_text(self._blobs.cipher, record[SEALED], kind=JOURNAL_KIND, run_id=run_id)
        opened: dict[str, Any] = json.loads(text)
        return opened

    async def _write(self, work: _Work) -> None:
        async with self._blobs.writing():
            await self._transaction(work)

    async def _transaction(self, work: _Work) -> None:
        async with self._sessions() as session, session.begin():
            await work(CallJournalRepository(session))
