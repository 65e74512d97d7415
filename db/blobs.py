"""The claim-check store: large values live here, and histories carry only their ids.

With a cipher (db/blob_cipher.py; the API and the worker pass one) every value is
encrypted before it is written and decrypted when read, by the methods below: nothing
else reads the ``blobs`` table's contents. Values written without one stay readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from db.base import utcnow
from db.blob_cipher import BlobCipher, open_bytes, open_text
from db.models import Blob
from db.repositories.blobs import PAYLOAD_KIND
from db.uow import UnitOfWork


class BlobStore:
    def __init__(self, sessions: async_sessionmaker[Any], cipher: BlobCipher | None = None) -> None:
        self._sessions = sessions
        self._cipher = cipher
        # SQLite has one writer at a time, and a transaction holds the lock across event
        # loop turns; with hundreds of steps finishing at once, waiting here, in the
        # loop, beats failing on the database's busy timeout.
        bind = sessions.kw.get("bind")
        self._write_lock = (
            asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None
        )

    @property
    def cipher(self) -> BlobCipher | None:
        """The cipher blobs are encrypted with; None writes them as they are."""
        return self._cipher

    @property
    def sessions(self) -> async_sessionmaker[Any]:
        """The store's database, which the call journal shares (db/call_journal.py)."""
        return self._sessions

    def writing(self) -> AbstractAsyncContextManager[Any]:
        """Held around a write to the store's database: on SQLite, one writer at a time,
        the call journal's writes included."""
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

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
                    content=self._seal_text(content, kind=kind, run_id=run_id),
                    created_at=utcnow(),
                )
            )
        return str(blob_id)

    async def get_many(self, blob_ids: Iterable[str]) -> dict[str, str]:
        ids = {uuid.UUID(blob_id) for blob_id in blob_ids}
        async with UnitOfWork(self._sessions) as uow:
            rows = await uow.blobs.get_many(ids)
        return {str(blob_id): self._content_of(row) for blob_id, row in rows.items()}

    async def contents_of_run(self, run_id: str, kind: str) -> list[str]:
        """The contents of a run's blobs of one kind, oldest first."""
        async with UnitOfWork(self._sessions) as uow:
            rows = await uow.blobs.list_for_run(run_id, kind)
        return [self._content_of(row) for row in rows]

    async def contents_of_step(self, run_id: str, step_id: str, kind: str) -> list[str]:
        """The contents of a step's blobs of one kind, found by the run and step they were
        stored for (in no particular order)."""
        async with UnitOfWork(self._sessions) as uow:
            rows = await uow.blobs.list_for_step(run_id, step_id, kind)
        return [self._content_of(row) for row in rows]

    async def put_payload(self, *, blob_id: uuid.UUID, run_id: str, data: bytes) -> None:
        """Keep a Temporal payload's bytes under a content-addressed id; a no-op if there."""
        if self._write_lock is None:
            await self._insert_payload(blob_id=blob_id, run_id=run_id, data=data)
            return
        async with self._write_lock:
            await self._insert_payload(blob_id=blob_id, run_id=run_id, data=data)

    async def _insert_payload(self, *, blob_id: uuid.UUID, run_id: str, data: bytes) -> None:
        async with UnitOfWork(self._sessions) as uow:
            await uow.blobs.add_payload_if_absent(
                blob_id=blob_id,
                run_id=run_id,
                data=self._seal(data, kind=PAYLOAD_KIND, run_id=run_id),
                created_at=utcnow(),
                size=len(data),
            )

    async def get_payloads(self, blob_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        async with UnitOfWork(self._sessions) as uow:
            stored = await uow.blobs.payload_data(blob_ids)
        return {
            blob_id: open_bytes(self._cipher, data, kind=PAYLOAD_KIND, run_id=run_id)
            for blob_id, (run_id, data) in stored.items()
        }

    async def payload_ids(self, run_id: str) -> set[uuid.UUID]:
        """The ids of a run's payload blobs."""
        async with UnitOfWork(self._sessions) as uow:
            return await uow.blobs.payload_ids(run_id)

    async def run_ids_with_blobs(self, *, created_before: datetime) -> list[str]:
        """The runs (workflow ids) with blobs of any kind stored before ``created_before``."""
        async with UnitOfWork(self._sessions) as uow:
            return await uow.blobs.run_ids_with_blobs(created_before)

    async def delete_blobs_of_runs(
        self, run_ids: Iterable[str], *, created_before: datetime
    ) -> int:
        """Delete every blob (outputs, transcripts, payloads) of these runs stored before
        ``created_before``; returns how many.

        The caller vouches that Temporal no longer has the runs (db/payload_store.py).
        """
        if self._write_lock is None:
            async with UnitOfWork(self._sessions) as uow:
                return await uow.blobs.delete_blobs_of_runs(run_ids, created_before)
        async with self._write_lock:
            async with UnitOfWork(self._sessions) as uow:
                return await uow.blobs.delete_blobs_of_runs(run_ids, created_before)

    async def copy_to_run(self, blob_ids: Iterable[str], run_id: str) -> dict[str, str]:
        """Copy these blobs to another run; returns each original's id with its copy's.

        A run's blobs go when Temporal drops the run (retention): a run that refers to
        another run's blobs (a fork reusing its parent's steps) keeps copies of its own.
        Copying to a run again gives the same copies; ids not in the store are left out.
        With a cipher, each copy is decrypted and encrypted again for ``run_id`` (the
        associated data binds a blob to its run); an unencrypted original is encrypted.
        Without one, an encrypted original raises BlobUnreadable rather than be copied
        into a row that could never open.
        """
        ids = {uuid.UUID(blob_id) for blob_id in blob_ids}
        if not ids:
            return {}
        if self._write_lock is None:
            copies = await self._copy(ids, run_id)
        else:
            async with self._write_lock:
                copies = await self._copy(ids, run_id)
        return {str(original): str(copy) for original, copy in copies.items()}

    async def _copy(self, ids: set[uuid.UUID], run_id: str) -> dict[uuid.UUID, uuid.UUID]:
        def reseal(blob: Blob) -> tuple[str, bytes | None]:
            if blob.data is not None:
                data = open_bytes(self._cipher, blob.data, kind=blob.kind, run_id=blob.run_id)
                return blob.content, self._seal(data, kind=blob.kind, run_id=run_id)
            return self._seal_text(self._content_of(blob), kind=blob.kind, run_id=run_id), None

        async with UnitOfWork(self._sessions) as uow:
            return await uow.blobs.copy_to_run(ids, run_id, utcnow(), reseal)

    def _seal(self, data: bytes, *, kind: str, run_id: str) -> bytes:
        if self._cipher is None:
            return data
        return self._cipher.seal(data, kind=kind, run_id=run_id)

    def _seal_text(self, text: str, *, kind: str, run_id: str) -> str:
        if self._cipher is None:
            return text
        return self._cipher.seal_text(text, kind=kind, run_id=run_id)

    def _content_of(self, row: Blob) -> str:
        return open_text(self._cipher, row.content, kind=row.kind, run_id=row.run_id)
