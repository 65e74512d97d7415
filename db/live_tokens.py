"""Live tokens: the text of an LLM call while it streams, from the worker to the API's
run event stream, beside Temporal and never through its history.

The worker publishes a call's text in batches (about every 100 ms, see
activities/live_output.py). Each batch overwrites the call's row in ``live_tokens``, the
text so far, so a page opened mid-step starts from it; on SQLite the API polls these
rows. On Postgres each batch is also sent with ``NOTIFY`` on ``kasal_live_tokens``, in
the same transaction, and the API listens (db/live_token_listener.py). A notification's
payload holds at most 8,000 bytes, so a large batch goes as several.

The row goes when the call ends: the call journal keeps the finished reply, which is the
durable record. With the blob store's cipher the row's text is sealed like a blob; the
notifications, which Postgres keeps nowhere, are not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from db.base import utcnow
from db.blob_cipher import BlobCipher, open_text
from db.blobs import BlobStore
from db.models import LiveTokenRow

CHANNEL = "kasal_live_tokens"
# Live text shows a call's reply as it comes, up to this many characters: beyond, the
# step's output is the record. Each batch rewrites the text so far, so without a bound a
# reply of megabytes would be written again and again, growing each time.
LIVE_TEXT_LIMIT = 64 * 1024
# Characters of text per notification: even at 4 bytes a character, or 6 for a JSON
# escape, one piece and its key stay under Postgres's 8,000-byte payload limit.
NOTIFY_CHARS = 1000
SEAL_KIND = "live"


@dataclass(frozen=True)
class LiveCall:
    """One LLM call of one attempt of a step execution."""

    run_id: str
    step_id: str
    execution: int
    attempt: int
    call_index: int


@dataclass(frozen=True)
class LiveText:
    """``text`` of ``call``, starting ``at`` characters into the call's text."""

    call: LiveCall
    at: int
    text: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self.call), "at": self.at, "text": self.text})

    @classmethod
    def from_json(cls, payload: str) -> LiveText:
        data: dict[str, Any] = json.loads(payload)
        at, piece = int(data.pop("at")), str(data.pop("text"))
        return cls(call=LiveCall(**data), at=at, text=piece)


class LiveTokenStore:
    """The ``live_tokens`` rows, written by the worker and read by the API."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._sessions: async_sessionmaker[Any] = blobs.sessions
        bind = self._sessions.kw.get("bind")
        self._notify = bind is not None and bind.dialect.name == "postgresql"

    @property
    def cipher(self) -> BlobCipher | None:
        return self._blobs.cipher

    async def publish(self, call: LiveCall, so_far: str, at: int) -> None:
        """The call's text is now ``so_far``; what is new starts at ``at``."""
        sealed = self._seal(so_far, call.run_id)
        key = _key(call)
        async with self._blobs.writing(), self._sessions() as session, session.begin():
            updated = await session.execute(
                update(LiveTokenRow)
                .where(*key)
                .values(attempt=call.attempt, text=sealed, updated_at=utcnow())
            )
            if updated.rowcount == 0:
                session.add(
                    LiveTokenRow(
                        run_id=call.run_id,
                        step_id=call.step_id,
                        execution=call.execution,
                        call_index=call.call_index,
                        attempt=call.attempt,
                        text=sealed,
                        updated_at=utcnow(),
                    )
                )
            if self._notify:
                for start in range(at, len(so_far), NOTIFY_CHARS):
                    piece = LiveText(call, start, so_far[start : start + NOTIFY_CHARS])
                    await session.execute(
                        text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": piece.to_json()},
                    )

    async def drop(self, call: LiveCall) -> None:
        """The call ended: the journal has its reply (or it failed)."""
        async with self._blobs.writing(), self._sessions() as session, session.begin():
            await session.execute(
                delete(LiveTokenRow).where(*_key(call), LiveTokenRow.attempt == call.attempt)
            )

    async def delete_runs(self, run_ids: list[str]) -> None:
        """Rows a call left when its worker died mid-stream, of runs Temporal dropped."""
        if not run_ids:
            return
        async with self._blobs.writing(), self._sessions() as session, session.begin():
            await session.execute(delete(LiveTokenRow).where(LiveTokenRow.run_id.in_(run_ids)))

    async def of_run(self, run_id: str) -> list[LiveText]:
        """The text so far of each of the run's calls that is streaming now."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(select(LiveTokenRow).where(LiveTokenRow.run_id == run_id))
            ).all()
        return [
            LiveText(
                LiveCall(row.run_id, row.step_id, row.execution, row.attempt, row.call_index),
                0,
                open_text(self.cipher, row.text, kind=SEAL_KIND, run_id=run_id),
            )
            for row in rows
        ]

    def _seal(self, so_far: str, run_id: str) -> str:
        cipher = self.cipher
        return so_far if cipher is None else cipher.seal_text(so_far, kind=SEAL_KIND, run_id=run_id)


def _key(call: LiveCall) -> tuple[Any, ...]:
    return (
        LiveTokenRow.run_id == call.run_id,
        LiveTokenRow.step_id == call.step_id,
        LiveTokenRow.execution == call.execution,
        LiveTokenRow.call_index == call.call_index,
    )
