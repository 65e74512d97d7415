"""How many steps a worker takes on: as many as its event loop keeps up with.

A step spends most of a slow model's call waiting, so a worker holds thousands at once.
With a fast model the same steps are CPU: CrewAI, litellm's parsing, the call journal.
One process past what its core can do slows every step it holds, and the loop that sends
their heartbeats falls behind with them. With 1,000 one-step runs started at once
(bench P3, 1 s model latency, 2 cores), the worker took every step, its loop fell seconds
behind, Temporal timed the steps out for missed heartbeats three attempts running, and
709 runs paused. A fixed, lower limit would idle a worker whose steps wait on a slow
model.

So a slot is granted while fewer than ``max_slots`` are held and the worker's loops turn
around within ``MAX_LOOP_TURN_SECONDS``: the time from handing each loop a no-op until
it has run it, the wait every piece of a step's work has there. The loops are the
worker's own, where heartbeats and completions go, and CrewAI's (activities/
crew_runtime.py), where every step's agent works; the slowest counts. Past that the
worker takes no new step until the steps it holds have finished enough for its loops to
catch up. The others wait in Temporal's task queue, where waiting costs nothing: their
schedule-to-start time is not their heartbeat's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from temporalio.worker import (
    CustomSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
)

# A heartbeat is due every half of the 8 s timeout (activities/heartbeat.py): a loop
# this late still sends each in time, and a step's CPU is milliseconds.
MAX_LOOP_TURN_SECONDS = 0.25
# How often a waiting reservation looks again.
RECHECK_SECONDS = 0.05


class LoopPacedSlots(CustomSlotSupplier):
    """Activity slots, at most ``max_slots``, granted only while the worker's loop and
    each of ``watched_loops`` (loops on other threads) keep up."""

    def __init__(
        self, max_slots: int, watched_loops: Sequence[asyncio.AbstractEventLoop] = ()
    ) -> None:
        self.max_slots = max_slots
        self._watched_loops = watched_loops
        self.held = 0
        # The last turn measured; eager starts (try_reserve_slot) cannot wait to measure.
        self.last_turn_seconds = 0.0

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        while True:
            if self.held < self.max_slots:
                self.last_turn_seconds = await self._slowest_turn()
                if self._may_grant():
                    return self._grant()
            await asyncio.sleep(RECHECK_SECONDS)

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        return self._grant() if self._may_grant() else None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        pass

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        self.held -= 1

    async def _slowest_turn(self) -> float:
        turns = [await loop_turn_seconds()]
        turns += [await other_loop_turn_seconds(loop) for loop in self._watched_loops]
        return max(turns)

    def _may_grant(self) -> bool:
        return self.held < self.max_slots and self.last_turn_seconds <= MAX_LOOP_TURN_SECONDS

    def _grant(self) -> SlotPermit:
        self.held += 1
        return SlotPermit()


async def loop_turn_seconds() -> float:
    """How long the running loop takes to come back to a task that yields to it."""
    started = time.monotonic()
    await asyncio.sleep(0)
    return time.monotonic() - started


async def other_loop_turn_seconds(loop: asyncio.AbstractEventLoop) -> float:
    """How long ``loop``, running on another thread, takes to run a no-op handed to it."""
    started = time.monotonic()
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop))
    return time.monotonic() - started
