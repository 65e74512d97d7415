"""Queries on blobs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Blob

PAYLOAD_KIND = "payload"
# The namespace of the ids of copied blobs (copy_id_of).
_COPIES = uuid.UUID("0f6b8e0c-3f1d-4c55-9a2e-7d4b6c1a9e52")
_COPY_BATCH = 500


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

    async def list_for_run(self, run_id: str, kind: str) -> list[Blob]:
        """A run's blobs of one kind, oldest first."""
        query = (
            select(Blob)
            .where(Blob.run_id == run_id, Blob.kind == kind)
            .order_by(Blob.created_at, Blob.id)
        )
        return list((await self.session.execute(query)).scalars())

    async def list_for_step(self, run_id: str, step_id: str, kind: str) -> list[Blob]:
        """A step's blobs of one kind, found by the run and step they were stored for."""
        query = select(Blob).where(
            Blob.run_id == run_id, Blob.step_id == step_id, Blob.kind == kind
        )
        return list((await self.session.execute(query)).scalars())

    async def add_payload_if_absent(
        self,
        *,
        blob_id: uuid.UUID,
        run_id: str,
        data: bytes,
        created_at: datetime,
        size: int | None = None,
    ) -> None:
        """Insert a payload blob unless its id, a content address, is already there.

        ON CONFLICT DO NOTHING: two writers racing with the same payload both succeed,
        and one row remains, on SQLite and on Postgres alike. ``size`` is the payload's
        (before encryption); by default, that of ``data``.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            "id": blob_id,
            "kind": PAYLOAD_KIND,
            "run_id": run_id,
            "step_id": "",
            "size": len(data) if size is None else size,
            "content": "",
            "data": data,
            "created_at": created_at,
        }
        await self.session.execute(insert(Blob).values(values).on_conflict_do_nothing())

    async def payload_data(
        self, blob_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, bytes]]:
        """The stored bytes of these payload blobs, each with its run id."""
        ids = list(blob_ids)
        if not ids:
            return {}
        query = select(Blob.id, Blob.run_id, Blob.data).where(
            Blob.id.in_(ids), Blob.kind == PAYLOAD_KIND
        )
        return {
            row.id: (row.run_id, row.data) for row in await self.session.execute(query) if row.data
        }

    async def payload_ids(self, run_id: str) -> set[uuid.UUID]:
        query = select(Blob.id).where(Blob.kind == PAYLOAD_KIND, Blob.run_id == run_id)
        return set((await self.session.execute(query)).scalars())

    async def run_ids_with_blobs(self, created_before: datetime) -> list[str]:
        """The runs with blobs of any kind stored before ``created_before``."""
        query = select(Blob.run_id).where(Blob.created_at < created_before).distinct()
        return list((await self.session.execute(query)).scalars())

    async def delete_blobs_of_runs(self, run_ids: Iterable[str], created_before: datetime) -> int:
        """Delete every blob (outputs, transcripts, payloads) of these runs stored before
        ``created_before``; returns how many."""
        ids = list(run_ids)
        if not ids:
            return 0
        result = await self.session.execute(
            delete(Blob).where(Blob.run_id.in_(ids), Blob.created_at < created_before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def copy_to_run(
        self,
        blob_ids: Iterable[uuid.UUID],
        run_id: str,
        created_at: datetime,
        reseal: Callable[[Blob], tuple[str, bytes | None]] | None = None,
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Copy these blobs to ``run_id``: new rows, each with an id derived from the run
        and the original's id; returns the new id of each original found.

        ``reseal`` gives a copy's stored content and data from its original (encrypted
        blobs are re-encrypted for the new run, db/blobs.py); by default, the original's.
        The same copy twice (a repeated request, or two racing) writes one row: ON
        CONFLICT DO NOTHING on the derived id.
        """
        originals = await self.get_many(blob_ids)
        if not originals:
            return {}
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        copies = {blob_id: copy_id_of(run_id, blob_id) for blob_id in originals}
        stored = {
            blob_id: reseal(blob) if reseal is not None else (blob.content, blob.data)
            for blob_id, blob in originals.items()
        }
        rows = [
            {
                "id": copies[blob_id],
                "kind": blob.kind,
                "run_id": run_id,
                "step_id": blob.step_id,
                "size": blob.size,
                "content": stored[blob_id][0],
                "data": stored[blob_id][1],
                "created_at": created_at,
            }
            for blob_id, blob in originals.items()
        ]
        # In batches: SQLite binds at most 32,766 parameters to a statement.
        for start in range(0, len(rows), _COPY_BATCH):
            batch = rows[start : start + _COPY_BATCH]
            await self.session.execute(insert(Blob).values(batch).on_conflict_do_nothing())
        return copies


def copy_id_of(run_id: str, blob_id: uuid.UUID) -> uuid.UUID:
    """The id of ``blob_id``'s copy in ``run_id``: one copy per run, however often made."""
    return uuid.uuid5(_COPIES, f"{run_id}/{blob_id}")
