"""Queries on blobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Blob


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
