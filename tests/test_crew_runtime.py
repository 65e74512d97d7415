"""CrewAI's loop (activities/crew_runtime.py): the work of a step in flight there does not
grow with the number of steps in flight beside it."""

from __future__ import annotations

import asyncio

import anyio
import pytest
from anyio._backends import _asyncio as anyio_asyncio

from activities.crew_runtime import CrewRuntime


def test_anyio_finds_the_loops_root_task_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """litellm hands the end of every streamed reply to a thread through anyio, which
    looks for the loop's root task. It remembers one that run_until_complete runs; on a
    loop without one it looked through every task on the loop (one per step) each time."""
    scans = 0
    all_tasks = anyio_asyncio.all_tasks

    def counted_all_tasks(loop: asyncio.AbstractEventLoop | None = None) -> set[asyncio.Task]:
        nonlocal scans
        scans += 1
        return all_tasks(loop)

    monkeypatch.setattr(anyio_asyncio, "all_tasks", counted_all_tasks)
    runtime = CrewRuntime.for_steps(1)

    async def hand_to_threads(times: int) -> None:
        for _ in range(times):
            await anyio.to_thread.run_sync(lambda: None)

    runtime_work = asyncio.run_coroutine_threadsafe(hand_to_threads(5), runtime.loop)
    runtime_work.result(timeout=30)
    assert scans <= 1
