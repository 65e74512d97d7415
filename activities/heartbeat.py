"""Heartbeat from a background task while a step works."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity

DEFAULT_HEARTBEAT_TIMEOUT = timedelta(seconds=30)


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat a few times per heartbeat timeout, however long one LLM call takes.

    Heartbeats are also how a cancel reaches the activity, as ``CancelledError``.
    """
    timeout = activity.info().heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT
    interval = max(timeout.total_seconds() / 4, 0.2)

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval)

    beater = asyncio.create_task(beat())
    try:
        yield
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
