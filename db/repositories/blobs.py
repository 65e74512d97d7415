"""Queries on blobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Blob

PAYLOAD_KIND = "payload"


class BlobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, blob: Blob) -> None:
        self.session.add(blob)

    async def get_many(self, blob_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Blob]:
        ids = list(blob_ids)
        if not ids:
            return {}
        rows = (await self.session.execute(select(Blob).where(Blob.id.in_(ids)))).scalars()
        return {row.id: row for row in rows}

    async def list_for_step(self, run_id: str, step_id: str, kind: str) -> list[Blob]:
        """A step's blobs of one kind, found by the run and step they were stored for."""
        query = select(Blob).where(
            Blob.run_id == run_id, Blob.step_id == step_id, Blob.kind == kind
        )
        return list((await self.session.execute(query)).scalars())

    async def add_payload_if_absent(
        self, *, blob_id: uuid.UUID, run_id: str, data: bytes, created_at: datetime
    ) -> None:
        """Insert a payload blob unless its id, a content address, is already there.

        ON CONFLICT DO NOTHING: two writers racing with the same payload both succeed,
        and one row remains, on SQLite and on Postgres alike.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            "id": blob_id,
            "kind": PAYLOAD_KIND,
            "run_id": run_id,
            "step_id": "",
            "size": len(data),
            "content": "",
            "data": data,
            "created_at": created_at,
        }
        await self.session.execute(insert(Blob).values(values).on_conflict_do_nothing())

    async def payload_data(self, blob_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        ids = list(blob_ids)
        if not ids:
            return {}
        query = select(Blob.id, Blob.data).where(Blob.id.in_(ids), Blob.kind == PAYLOAD_KIND)
        return {row.id: row.data for row in await self.session.execute(query) if row.data}

    async def payload_ids(self, run_id: str) -> set[uuid.UUID]:
        query = select(Blob.id).where(Blob.kind == PAYLOAD_KIND, Blob.run_id == run_id)
        return set((await self.session.execute(query)).scalars())

    async def payload_run_ids(self, created_before: datetime) -> list[str]:
        query = (
            select(Blob.run_id)
            .where(Blob.kind == PAYLOAD_KIND, Blob.created_at < created_before)
            .distinct()
        )
        return list((await self.session.execute(query)).scalars())

    async def delete_payloads_of_runs(
        self, run_ids: Iterable[str], created_before: datetime
    ) -> int:
        ids = list(run_ids)
        if not ids:
            return 0
        result = await self.session.execute(
            delete(Blob).where(
                Blob.kind == PAYLOAD_KIND,
                Blob.run_id.in_(ids),
                Blob.created_at < created_before,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
