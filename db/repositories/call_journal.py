"""Queries on the call journal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import utcnow
from db.models import CallJournalRow


@dataclass(frozen=True)
class CallKey:
    """Where a call sits: its step execution, its kind, its place and what it asked."""

    run_id: str
    step_id: str
    execution: int
    kind: str
    call_index: int
    request_hash: str

    def columns(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "step_id": self.step_id,
            "execution": self.execution,
            "kind": self.kind,
            "call_index": self.call_index,
            "request_hash": self.request_hash,
        }


class CallJournalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, key: CallKey) -> CallJournalRow | None:
        query = select(CallJournalRow).filter_by(**key.columns())
        return (await self.session.execute(query)).scalars().first()

    async def insert_if_absent(
        self, key: CallKey, *, status: str, attempt: int, record: dict[str, Any] | None
    ) -> None:
        """ON CONFLICT DO NOTHING: the first writer of a call's row keeps it."""
        await self.session.execute(
            self._insert(key, status, attempt, record).on_conflict_do_nothing()
        )

    async def finish(self, key: CallKey, *, attempt: int, record: dict[str, Any]) -> None:
        """The call is done: its row, over its intent if there was one, in one statement."""
        insert = self._insert(key, "done", attempt, record)
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=list(key.columns()),
                set_={
                    "status": insert.excluded.status,
                    "attempt": insert.excluded.attempt,
                    "record": insert.excluded.record,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )

    def _insert(
        self, key: CallKey, status: str, attempt: int, record: dict[str, Any] | None
    ) -> postgresql.Insert | sqlite.Insert:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        return insert(CallJournalRow).values(
            {
                **key.columns(),
                "id": uuid.uuid4(),
                "status": status,
                "attempt": attempt,
                "record": record,
                "created_at": now,
                "updated_at": now,
            }
        )

    async def of_execution(self, run_id: str, step_id: str, execution: int) -> list[CallJournalRow]:
        query = select(CallJournalRow).where(
            CallJournalRow.run_id == run_id,
            CallJournalRow.step_id == step_id,
            CallJournalRow.execution == execution,
        )
        return list((await self.session.execute(query)).scalars())

    async def changed_after(
        self, run_id: str, cursor: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[CallJournalRow]:
        """The run's rows written after ``cursor`` (a row's updated_at and id), in order."""
        query = select(CallJournalRow).where(CallJournalRow.run_id == run_id)
        if cursor is not None:
            updated_at, row_id = cursor
            query = query.where(
                or_(
                    CallJournalRow.updated_at > updated_at,
                    and_(CallJournalRow.updated_at == updated_at, CallJournalRow.id > row_id),
                )
            )
        query = query.order_by(CallJournalRow.updated_at, CallJournalRow.id).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def last_change(self, run_id: str) -> tuple[datetime, uuid.UUID] | None:
        query = (
            select(CallJournalRow.updated_at, CallJournalRow.id)
            .where(CallJournalRow.run_id == run_id)
            .order_by(CallJournalRow.updated_at.desc(), CallJournalRow.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).first()
        return None if row is None else (row.updated_at, row.id)

    async def of_steps(self, run_id: str, step_ids: list[str]) -> list[CallJournalRow]:
        query = select(CallJournalRow).where(
            CallJournalRow.run_id == run_id, CallJournalRow.step_id.in_(step_ids)
        )
        return list((await self.session.execute(query)).scalars())

    async def delete_runs(self, run_ids: list[str], created_before: datetime) -> int:
        result = await self.session.execute(
            delete(CallJournalRow).where(
                CallJournalRow.run_id.in_(run_ids), CallJournalRow.created_at < created_before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
