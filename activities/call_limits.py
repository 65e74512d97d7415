"""A step's LLM calls under their model config's limits (db/model_limits.py): each call
waits for a lease before it is made, and gives it back when it ends.

The leases live in the database, which belongs to the activity's event loop; CrewAI
makes its calls on its own loop, so taking and giving back are handed to that one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

from db.model_limits import CallLimits, ModelLimiter

T = TypeVar("T")


class CallSlots:
    def __init__(
        self,
        limiter: ModelLimiter,
        limits: CallLimits,
        longest: timedelta,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._limiter, self._limits, self._longest, self._loop = limiter, limits, longest, loop

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Around one call: wait for a lease, give it back however the call ends."""
        lease = await self._on_loop(self._limiter.take(self._limits, self._longest))
        try:
            yield
        finally:
            if lease is not None:
                await asyncio.shield(self._release(lease))

    async def _release(self, lease: uuid.UUID) -> None:
        await self._on_loop(self._limiter.release(lease))

    async def _on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))
