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
    """Heartbeat twice per heartbeat timeout, however long one LLM call takes.

    Heartbeats are also how a cancel reaches the activity, as ``CancelledError``.

    The SDK sends each of these when it is handed over (its flush interval, worker/main.py,
    is no longer), so the server hears the step every half timeout. The other half is
    the slack, for the worker's loop running late and for the server, which takes a
    run's heartbeats one at a time between its workflow tasks. It was 1.6 s with a beat
    every quarter of the 8 s timeout and the SDK sending one per 0.8 of it: on a loaded
    CI machine, steps were retried for it. Steps that start together (a run fanning out)
    would all heartbeat in the same instant, every interval, into the one workflow; so
    each step's first heartbeat waits a random part of the interval, which spreads them.
    """
    timeout = (activity.info().heartbeat_timeout or DEFAULT_HEARTBEAT_TIMEOUT).total_seconds()
    interval = max(timeout / 2, 0.2)

    async def beat() -> None:
        await asyncio.sleep(random.uniform(0, interval))
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
