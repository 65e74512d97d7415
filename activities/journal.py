"""A step attempt's view of the call journal: keys for its calls, and replay.

LLM calls are made one at a time, so the n-th is call n. Tool calls of one reply may
run in parallel threads, so a tool call's index is how many times the same request
(tool and arguments) was made before in this attempt: a replay finds it whatever order
the threads ran in. Either way the key carries a hash of the request, so a call that
asks something else than the journal holds at its place is made, not replayed.

The journal's database belongs to the activity's event loop; CrewAI runs calls on its
own loop and threads, so every journal operation is handed to the activity's loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Coroutine, Iterable
from typing import Any, TypeVar

from db.call_journal import CallJournal, Journaled
from db.models import LlmUsageRow
from db.repositories.call_journal import CallKey

T = TypeVar("T")
REDACTED = "[redacted]"


def request_hash(request: Any) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


class Scrubber:
    """Removes known secret values (tool headers, model keys) from what is kept or shown."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


class StepClosed(Exception):
    """The attempt was cancelled or timed out: CrewAI's threads, which cannot be
    interrupted, get this from every call they try next, and stop."""


class StepJournal:
    def __init__(
        self,
        journal: CallJournal,
        loop: asyncio.AbstractEventLoop,
        *,
        run_id: str,
        step_id: str,
        execution: int,
        attempt: int,
        scrub: Scrubber,
    ) -> None:
        self._journal, self._loop = journal, loop
        self._run_id, self._step_id, self._execution = run_id, step_id, execution
        self.attempt = attempt
        self.scrub = scrub
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.failure: BaseException | None = None
        self._llm_calls = 0
        self._tool_calls: dict[str, int] = {}

    def close(self) -> None:
        """No call of this attempt starts from now on."""
        self._closed.set()

    def fail(self, failure: BaseException) -> None:
        """The journal could not be read or written: the attempt must fail and be retried,
        not go on with a call the journal does not know of. CrewAI would hand the error
        to the agent as a tool error, so it is kept here for the activity to raise."""
        if self.failure is None:
            self.failure = failure
        self.close()

    def check_open(self) -> None:
        if self._closed.is_set():
            raise StepClosed("this attempt of the step was cancelled")

    def llm_key(self, request: Any) -> CallKey:
        with self._lock:
            index, self._llm_calls = self._llm_calls, self._llm_calls + 1
        return self._key("llm", index, request_hash(request))

    def tool_key(self, request: Any) -> CallKey:
        digest = request_hash(request)
        with self._lock:
            index = self._tool_calls.get(digest, 0)
            self._tool_calls[digest] = index + 1
        return self._key("tool", index, digest)

    async def find(self, key: CallKey) -> Journaled | None:
        return await self._on_loop(self._journal.find(key))

    async def intend(self, key: CallKey, record: dict[str, Any]) -> None:
        await self._on_loop(self._journal.intend(key, self.attempt, record))

    async def record(self, key: CallKey, record: dict[str, Any]) -> None:
        await self._on_loop(self._journal.record(key, self.attempt, record))

    async def record_with_usage(
        self, key: CallKey, record: dict[str, Any], usage: LlmUsageRow
    ) -> None:
        """As ``record``, with the call's usage row in the same transaction. A failure
        here does not fail the attempt: the caller writes the two apart instead."""
        await self._on_loop(self._journal.record(key, self.attempt, record, usage), guarded=False)

    async def _guarded(self, work: Coroutine[Any, Any, T]) -> T:
        try:
            return await work
        except Exception as exc:
            self.fail(exc)
            raise

    def _key(self, kind: str, index: int, digest: str) -> CallKey:
        return CallKey(
            run_id=self._run_id,
            step_id=self._step_id,
            execution=self._execution,
            kind=kind,
            call_index=index,
            request_hash=digest,
        )

    async def _on_loop(self, work: Coroutine[Any, Any, T], *, guarded: bool = True) -> T:
        if guarded:
            work = self._guarded(work)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            return await work
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return await asyncio.wrap_future(future)
