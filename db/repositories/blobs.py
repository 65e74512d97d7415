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
