"""The claim-check store: large values live here, and histories carry only their ids."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from db.base import utcnow
from db.models import Blob
from db.uow import UnitOfWork


class BlobStore:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions
        # SQLite has one writer at a time, and a transaction holds the lock across event
        # loop turns; with hundreds of steps finishing at once, waiting here, in the
        # loop, beats failing on the database's busy timeout.
        bind = sessions.kw.get("bind")
        self._write_lock = (
            asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None
        )

    async def put(self, *, kind: str, run_id: str, step_id: str, content: str) -> str:
        if self._write_lock is None:
            return await self._insert(kind=kind, run_id=run_id, step_id=step_id, content=content)
        async with self._write_lock:
            return await self._insert(kind=kind, run_id=run_id, step_id=step_id, content=content)

    async def _insert(self, *, kind: str, run_id: str, step_id: str, content: str) -> str:
        blob_id = uuid.uuid4()
        async with UnitOfWork(self._sessions) as uow:
            uow.blobs.add(
                Blob(
                    id=blob_id,
                    kind=kind,
                    run_id=run_id,
                    step_id=step_id,
                    size=len(content.encode()),
                    content=content,
                    created_at=utcnow(),
                )
            )
        return str(blob_id)

    async def get_many(self, blob_ids: Iterable[str]) -> dict[str, str]:
        ids = {uuid.UUID(blob_id) for blob_id in blob_ids}
        async with UnitOfWork(self._sessions) as uow:
            rows = await uow.blobs.get_many(ids)
        return {str(blob_id): row.content for blob_id, row in rows.items()}
