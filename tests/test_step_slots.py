"""The worker's step slots: granted up to the limit, and only while its loop keeps up."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import cast

from temporalio.worker import SlotPermit, SlotReleaseContext, SlotReserveContext

from worker.step_slots import MAX_LOOP_TURN_SECONDS, LoopPacedSlots

CONTEXT = cast(SlotReserveContext, object())
BLOCKING_SECONDS = MAX_LOOP_TURN_SECONDS * 1.5


def release(slots: LoopPacedSlots, permit: SlotPermit) -> None:
    slots.release_slot(SlotReleaseContext(slot_info=None, permit=permit))


@contextlib.asynccontextmanager
async def loop_held_up() -> AsyncIterator[None]:
    """Something on the loop that holds it longer than a turn may take, over and over,
    as a worker's loop is held by more steps than it can serve."""

    async def hog() -> None:
        while True:
            time.sleep(BLOCKING_SECONDS)  # noqa: ASYNC251 - holding the loop is the point
            await asyncio.sleep(0)

    task = asyncio.create_task(hog())
    await asyncio.sleep(0)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_slots_are_granted_up_to_the_limit_and_again_when_released() -> None:
    slots = LoopPacedSlots(max_slots=2)
    first = await slots.reserve_slot(CONTEXT)
    await slots.reserve_slot(CONTEXT)
    assert slots.try_reserve_slot(CONTEXT) is None
    waiting = asyncio.create_task(slots.reserve_slot(CONTEXT))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    release(slots, first)
    await asyncio.wait_for(waiting, timeout=1)
    assert slots.held == 2


async def test_no_slot_is_granted_while_the_loop_is_held_up() -> None:
    slots = LoopPacedSlots(max_slots=100)
    async with loop_held_up():
        waiting = asyncio.create_task(slots.reserve_slot(CONTEXT))
        await asyncio.sleep(BLOCKING_SECONDS * 4)
        assert not waiting.done()
        # Eager starts, which cannot wait to measure, go by the last turn measured.
        assert slots.try_reserve_slot(CONTEXT) is None
    await asyncio.wait_for(waiting, timeout=1)
    assert slots.try_reserve_slot(CONTEXT) is not None
    assert slots.held == 2


async def test_a_cancelled_reservation_holds_no_slot() -> None:
    slots = LoopPacedSlots(max_slots=1)
    await slots.reserve_slot(CONTEXT)
    waiting = asyncio.create_task(slots.reserve_slot(CONTEXT))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    assert slots.held == 1


async def test_no_slot_is_granted_while_a_watched_loop_is_held_up() -> None:
    """CrewAI's loop runs every step's agent on a thread of its own: when it falls
    behind, the worker takes no more steps, however free its own loop is."""
    crew_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=crew_loop.run_forever, daemon=True)
    thread.start()
    held_up = threading.Event()

    def hog() -> None:  # on crew_loop: hold it, then queue itself again
        if not held_up.is_set():
            return
        time.sleep(BLOCKING_SECONDS)
        crew_loop.call_soon(hog)

    try:
        slots = LoopPacedSlots(max_slots=100, watched_loops=[crew_loop])
        await slots.reserve_slot(CONTEXT)
        held_up.set()
        crew_loop.call_soon_threadsafe(hog)
        waiting = asyncio.create_task(slots.reserve_slot(CONTEXT))
        await asyncio.sleep(BLOCKING_SECONDS * 4)
        assert not waiting.done()
        held_up.clear()
        await asyncio.wait_for(waiting, timeout=2)
        assert slots.held == 2
    finally:
        crew_loop.call_soon_threadsafe(crew_loop.stop)
        thread.join(timeout=5)
        crew_loop.close()
