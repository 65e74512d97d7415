"""CrewAI's own event loop, on a thread of its own, apart from the worker's.

CrewAI does CPU work on whatever loop runs it (building agents, rendering prompts,
emitting events). On the worker's loop, a few hundred steps doing that at once kept
Temporal's heartbeats from going out, and the steps were cancelled for missed
heartbeats. Here the worker's loop only waits on a future, and stays free.

There is one such loop per process, shared by every worker in it: CrewAI's event bus
and litellm's background logging task are process-wide, and litellm's task, moved from
loop to loop, was left pending on the old ones.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

from crewai.events.event_listener import event_listener

T = TypeVar("T")

# Threads beyond one per step, for the pool's short jobs (such as an HTTP client's
# getaddrinfo). Without them, a pool full of waiting turns deadlocks: each turn waits
# for a call that waits for a thread.
SPARE_THREADS = 32


class CrewRuntime:
    _shared: ClassVar[CrewRuntime | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def for_steps(cls, max_steps: int) -> CrewRuntime:
        """The process's runtime, with threads for ``max_steps`` more steps in flight."""
        with cls._lock:
            created = cls._shared is None
            if cls._shared is None:
                cls._shared = cls()
            cls._shared._reserve(max_steps)
            if created:  # after the pool is in place: the warm-up's turn runs there
                asyncio.run_coroutine_threadsafe(_warm_up(), cls._shared.loop).result()
            return cls._shared

    def __init__(self) -> None:
        # CrewAI prints its console panels unless a Crew turns them off (we run no Crew),
        # and logs failures as errors. Both quote a provider's error verbatim, an API key
        # it echoed back included. The step's error says what failed, with the key redacted.
        event_listener.formatter.verbose = False
        logging.getLogger("crewai").setLevel(logging.CRITICAL)
        _build_litellm_response_types()
        self._steps = 0
        self._pool: ThreadPoolExecutor | None = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="crewai-loop", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # Until a task that never ends, not run_forever: anyio, which litellm uses at the
        # end of every streamed reply, finds a loop's root task by run_until_complete's
        # callback and remembers it. Under run_forever it found none, and looked through
        # every task on the loop, one per step in flight, for each reply.
        self.loop.run_until_complete(_until_the_process_ends())

    def _reserve(self, max_steps: int) -> None:
        # CrewAI 1.15 runs each LLM turn of its executor in the loop's default pool; the
        # turn only waits there (the call itself runs on this loop), but it holds a
        # thread for as long as the call lasts: one per step in flight. Threads start
        # only when needed, so a larger pool costs nothing until it is used.
        self._steps += max_steps
        pool = ThreadPoolExecutor(self._steps + SPARE_THREADS, thread_name_prefix="crewai")

        def swap() -> None:  # on the loop, so no turn is handed to a pool shut down
            old, self._pool = self._pool, pool
            self.loop.set_default_executor(pool)
            if old is not None:
                old.shutdown(wait=False)  # its turns in flight finish there

        self.loop.call_soon_threadsafe(swap)

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


async def _until_the_process_ends() -> None:
    await asyncio.get_running_loop().create_future()


async def _warm_up() -> None:
    """Run one agent's task end to end, its LLM answering without a network call.

    A step's first run in a process imports and builds what CrewAI and litellm leave for
    first use (tiktoken's encoding, litellm's logging and proxy types): 0.85 s against
    0.05 s for the next. A worker started to replace a dead one would add that to the
    retried step's recovery; it is paid here, before the worker polls.
    """
    from crewai import LLM, Agent, Task

    from activities.agent_executor import KasalAgentExecutor

    llm = LLM(model="openai/warm-up", api_key="warm-up", mock_response="Final Answer: ok")
    agent = Agent(
        role="Warm-up",
        goal="Warm up",
        backstory="Warms up.",
        llm=llm,
        max_iter=1,
        max_retry_limit=0,
        allow_delegation=False,
        cache=False,
        verbose=False,
        executor_class=KasalAgentExecutor,
    )
    try:
        await agent.aexecute_task(Task(description="Warm up.", expected_output="ok", agent=agent))
    except Exception:  # a first step pays the cost instead; never keep a worker from starting
        logging.getLogger("kasal.worker").warning("CrewAI warm-up failed", exc_info=True)


def _build_litellm_response_types() -> None:
    """Build litellm's response models once, before steps use them from many threads.

    pydantic finishes some models on first use; two steps' first calls doing that at once
    in two threads failed with "type object 'Usage' has no attribute
    '__pydantic_core_schema__'".
    """
    from litellm.types.utils import ModelResponse, Usage

    Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    ModelResponse()
