"""A step attempt's live output: the text of its streaming LLM calls, published in
batches about every 100 ms (db/live_tokens.py), so the run console shows it as it comes.

The first batch waits its 100 ms too, so a call whose whole reply streams within one
batch writes nothing live: no row, no flush, no drop. Its text reaches the console from
the journal, before its ``llm_call`` event, as the last batch's remainder always does
(api/services/live_tokens.py). Most calls of a fast model are such calls, and each
write is a transaction on the step's critical path.

Text arrives on CrewAI's loop, chunk by chunk; the database belongs to the activity's
loop, so every chunk is handed there, in order, and batched there. Live output is a
view, never the record: a batch that cannot be published is logged and skipped (the
next batch carries the whole text so far), and the step goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any

from db.live_tokens import LIVE_TEXT_LIMIT, LiveCall, LiveTokenStore
from db.repositories.call_journal import CallKey

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.1


class LiveCallOutput:
    """One LLM call's text so far, published from the activity's loop."""

    def __init__(self, store: LiveTokenStore, loop: asyncio.AbstractEventLoop, call: LiveCall):
        self._store, self._loop, self.call = store, loop, call
        self._pieces: list[str] = []
        self._length = 0
        self._sent = 0
        self._published = False
        self._last_publish = 0.0
        self._pending: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None  # made on the activity's loop

    def add(self, piece: str) -> None:
        """More text of the call, from any thread or loop."""
        try:
            self._loop.call_soon_threadsafe(self._add, piece)
        except RuntimeError:  # the activity's loop closed: the worker is stopping
            log.debug("live tokens of %s dropped: the activity's loop is closed", self.call)

    async def flush(self) -> None:
        """Publish what has not been yet: before the call's reply is journaled, so the
        live text is whole by the time the journal says the call finished. Nothing, when
        nothing was published before: the journal's reply is the whole text."""
        await self._on_loop(self._flush())

    async def close(self) -> None:
        """The call ended: its row goes (the journal has the reply, or it failed)."""
        await self._on_loop(self._close())

    def _add(self, piece: str) -> None:
        room = LIVE_TEXT_LIMIT - self._length
        if room <= 0:
            return
        self._pieces.append(piece[:room])
        self._length += len(self._pieces[-1])
        if not self._last_publish:  # the first batch waits as long as the others
            self._last_publish = time.monotonic()
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._publish_soon())

    async def _publish_soon(self) -> None:
        await asyncio.sleep(max(0.0, self._last_publish + BATCH_SECONDS - time.monotonic()))
        await self._publish()

    async def _publish(self) -> None:
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._length == self._sent:
                return
            so_far, at = "".join(self._pieces), self._sent
            self._published = True  # a failed write may have left a row too
            try:
                await self._store.publish(self.call, so_far, at)
            except Exception:
                log.warning("could not publish live tokens of %s", self.call, exc_info=True)
            self._sent, self._last_publish = len(so_far), time.monotonic()

    async def _flush(self) -> None:
        if self._published:
            await self._publish()

    async def _close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending
        if not self._published:
            return
        try:
            await self._store.drop(self.call)
        except Exception:
            log.warning("could not clear live tokens of %s", self.call, exc_info=True)

    async def _on_loop(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            await work
            return
        try:
            future = asyncio.run_coroutine_threadsafe(work, self._loop)
        except RuntimeError:  # the activity's loop closed: the worker is stopping
            work.close()
            return
        await asyncio.wrap_future(future)


class LiveOutput:
    """Where one step attempt's LLM calls publish their text."""

    def __init__(self, store: LiveTokenStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store, self._loop = store, loop

    def of_call(self, key: CallKey, attempt: int) -> LiveCallOutput:
        call = LiveCall(key.run_id, key.step_id, key.execution, attempt, key.call_index)
        return LiveCallOutput(self._store, self._loop, call)


# The call streaming now in this task (set by the LLM manager around each call).
CURRENT_CALL: ContextVar[LiveCallOutput | None] = ContextVar("kasal_live_call", default=None)
