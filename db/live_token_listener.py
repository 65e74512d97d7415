"""The API's side of live tokens (db/live_tokens.py): what each run's calls have said.

On Postgres one connection listens on ``kasal_live_tokens`` for the whole API, and hands
each notification to the streams that follow its run; a stream starts from the rows,
read after it subscribed, so nothing falls between the two. If the listening
connection is lost, the streams read the rows until it is back. On SQLite a stream reads
its run's rows each time it asks.

Texts may overlap (a row's whole text, then a notification of its end): the reader
keeps what it has sent of each call and takes only what is new (api/services/live_tokens.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.blobs import BlobStore
from db.live_tokens import CHANNEL, LiveText, LiveTokenStore

log = logging.getLogger(__name__)


class LiveSubscription:
    """One stream's view of one run's live text."""

    def __init__(self, listener: LiveTokenListener, run_id: str) -> None:
        self._listener, self.run_id = listener, run_id
        self._pending: list[LiveText] = []
        self._read_rows = True  # first the text so far
        # The rows the last poll read (the calls streaming then, whole), or None.
        self.rows: list[LiveText] | None = None

    def _deliver(self, piece: LiveText) -> None:
        self._pending.append(piece)

    def resync(self) -> None:
        """Read the rows next time: something went by unseen."""
        self._read_rows = True

    async def poll(self) -> list[LiveText]:
        """What arrived since the last poll: pieces of text, possibly overlapping."""
        self.rows = None
        if self._read_rows or not self._listener.listening:
            self._read_rows = not await self._listener.ensure_listening()
            self.rows = await self._listener.store.of_run(self.run_id)
        pending, self._pending = self._pending, []
        return (self.rows or []) + pending


class LiveTokenListener:
    """Shared by the API's streams: one per app, closed when the app stops."""

    def __init__(self, engine: AsyncEngine, blobs: BlobStore) -> None:
        self.store = LiveTokenStore(blobs)
        self._engine = engine
        self._notified = engine.dialect.name == "postgresql"
        self._subscriptions: dict[str, set[LiveSubscription]] = {}
        self._connection: AsyncConnection | None = None
        self._alive = False
        self._lock = asyncio.Lock()

    @property
    def listening(self) -> bool:
        """Notifications arrive; False on SQLite, or while the connection is lost."""
        return self._connection is not None and self._alive

    @asynccontextmanager
    async def subscribe(self, run_id: str) -> AsyncIterator[LiveSubscription]:
        subscription = LiveSubscription(self, run_id)
        self._subscriptions.setdefault(run_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            followers = self._subscriptions.get(run_id, set())
            followers.discard(subscription)
            if not followers:
                self._subscriptions.pop(run_id, None)

    async def ensure_listening(self) -> bool:
        """Listen if this database notifies and no connection listens yet; whether
        notifications now arrive."""
        if not self._notified:
            return False
        async with self._lock:
            if self.listening:
                return True
            await self._drop_connection()
            try:
                connection = await self._engine.connect()
                raw = (await connection.get_raw_connection()).driver_connection
                assert raw is not None
                await raw.add_listener(CHANNEL, self._on_notification)
                raw.add_termination_listener(self._on_lost)
            except Exception:
                log.warning("cannot listen for live tokens; reading rows", exc_info=True)
                return False
            self._connection, self._alive = connection, True
            return True

    async def close(self) -> None:
        async with self._lock:
            await self._drop_connection()

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            piece = LiveText.from_json(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed live token notification")
            return
        for subscription in self._subscriptions.get(piece.call.run_id, ()):
            subscription._deliver(piece)

    def _on_lost(self, _conn: Any) -> None:
        # Whatever was said meanwhile is in the rows: every stream reads them next.
        self._alive = False
        for followers in self._subscriptions.values():
            for subscription in followers:
                subscription.resync()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
                await connection.close()
