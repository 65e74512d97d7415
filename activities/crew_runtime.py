"""CrewAI's own event loop, on a thread of its own, apart from the worker's.

CrewAI does CPU work on whatever loop runs it (building agents, rendering prompts,
emitting events). On the worker's loop, a few hundred steps doing that at once kept
Temporal's heartbeats from going out, and the steps were cancelled for missed
heartbeats. Here the worker's loop only waits on a future, and stays free.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class CrewRuntime:
    def __init__(self, threads: int) -> None:
        self.loop = asyncio.new_event_loop()
        # CrewAI 1.15 runs each LLM turn of its executor in the loop's default pool; the
        # turn only waits there (the call itself runs on this loop), but it holds a
        # thread, so the pool is as large as the number of steps held in flight.
        self.loop.set_default_executor(ThreadPoolExecutor(threads, thread_name_prefix="crewai"))
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="crewai-loop", daemon=True
        )
        self._thread.start()

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work()`` on CrewAI's loop; cancelling the caller cancels the work."""

        async def call() -> T:
            return await work()

        future = asyncio.run_coroutine_threadsafe(call(), self.loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
