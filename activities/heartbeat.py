"""Heartbeat from a background task while a step works."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity

DEFAULT_HEARTBEAT_TIMEOUT = timedelta(seconds=30)


@contextlib.asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat a few times per heartbeat timeout, however long one LLM call takes.

    Heartbeats are also how a cancel reaches the activity, as ``CancelledError``.

    The SDK sends the first heartbeat it is handed at once, then at most one per flush
    interval (worker/main.py), so a step's heartbeats reach the server in step with its
    first one. Steps that start together (a run fanning out) would all heartbeat in the
    same instant, every interval, into the one workflow the server updates a heartbeat at
    a time; the queue that makes outlasts the timeout's slack. Each step's first heartbeat
    waits a random part of half the timeout instead, which spreads them over the interval.
    After that a beat every quarter timeout keeps one waiting for each flush: a stall of
    the worker's loop (a garbage collection) costs a miss only past three quarters of it.
    """
    timeout = (activity.info().heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT).total_seconds()
    interval = max(timeout / 4, 0.2)

    async def beat() -> None:
        await asyncio.sleep(random.uniform(0, timeout / 2))
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
