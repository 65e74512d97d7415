"""Server-sent events for one run: a snapshot, then each change as it happens.

Changes are noticed by long-polling the run's Temporal history (no polling interval to
tune): every new event wakes the stream, which reads the run again and sends what
changed. The calls inside a running step (LLM and tool calls) leave no history event
until the step ends, so the call journal is read every second while the run is open,
and each call that starts or finishes since the stream opened is a `call` event, and once
finished also an `llm_call` or `tool_call` event. While an LLM call streams, its text
comes as `token` events, about every 100 ms (api/services/live_tokens.py): first, right
after the snapshot, the text so far of the calls streaming now. A comment every 15 s
keeps proxies from closing a quiet stream.

If the run can no longer be followed (Temporal does not answer, the run is gone), the
stream says so in an `error` event and ends, rather than staying open and silent; an
EventSource then reconnects and the snapshot tells it where the run stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from temporalio.service import RPCError

from api.errors import NotFound, Unavailable
from api.schemas.calls import CallEvent, LlmCallEvent, ToolCallEvent
from api.schemas.runs import RunRead
from api.services.live_tokens import TokenFollower
from api.services.run_reading import RunReader
from db.call_journal import DONE, CallJournal, JournalCursor
from db.live_token_listener import LiveTokenListener
from workflows.status import RunStatus

KEEP_ALIVE_SECONDS = 15.0
CALL_POLL_SECONDS = 1.0
TOKEN_POLL_SECONDS = 0.1
# Many events arrive together (an activity's scheduled, started, completed): read once.
COALESCE_SECONDS = 0.2
OPEN = {RunStatus.RUNNING, RunStatus.WAITING_FOR_APPROVAL, RunStatus.NEEDS_ATTENTION}


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


async def run_events(
    service: RunReader,
    calls: CallJournal,
    live: LiveTokenListener,
    first: RunRead,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    yield sse("snapshot", first.model_dump_json())
    if first.status not in OPEN:
        return
    async with live.subscribe(first.run_id) as subscription:
        tokens = TokenFollower(first.run_id, subscription)
        follower = _CallFollower(calls, first.run_id, await calls.last_change(first.run_id), tokens)
        for event in await _token_events(tokens):  # the text so far
            yield event
        async for event in _changes(service, follower, tokens, first, disconnected):
            yield event


async def _changes(
    service: RunReader,
    follower: _CallFollower,
    tokens: TokenFollower,
    first: RunRead,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    sent_steps = {step.id: step.model_dump_json() for step in first.steps}
    status = first.status
    woken = asyncio.Event()
    watcher = asyncio.create_task(_watch_history(service, first.run_id, woken))
    loop = asyncio.get_running_loop()
    quiet_since = next_call_poll = loop.time()
    try:
        while status in OPEN:
            try:
                await asyncio.wait_for(woken.wait(), timeout=TOKEN_POLL_SECONDS)
            except TimeoutError:
                if await disconnected():
                    return
                news = await _token_events(tokens)
                if tokens.take_call_ended() or loop.time() >= next_call_poll:
                    next_call_poll = loop.time() + CALL_POLL_SECONDS
                    news += await follower.events()
                for event in news:
                    yield event
                if news:
                    quiet_since = loop.time()
                elif loop.time() - quiet_since >= KEEP_ALIVE_SECONDS:
                    quiet_since = loop.time()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = loop.time()
            await asyncio.sleep(COALESCE_SECONDS)
            woken.clear()
            if await disconnected():
                return
            # Before the step they belong to.
            for event in await _token_events(tokens) + await follower.events():
                yield event
            if watcher.done() and (failure := watcher.result()) is not None:
                yield _error(first.run_id, failure)
                return
            try:
                run = await service.get(first.run_id, with_forks=False)
            except (NotFound, Unavailable, RPCError) as failure:
                yield _error(first.run_id, failure)
                return
            for step in run.steps:
                data = step.model_dump_json()
                if sent_steps.get(step.id) != data:
                    sent_steps[step.id] = data
                    yield sse("step", data)
            if run.status != status:
                status = run.status
                yield sse("run", json.dumps({"run_id": run.run_id, "status": status.value}))
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _token_events(tokens: TokenFollower) -> list[str]:
    return [sse("token", event.model_dump_json()) for event in await tokens.events()]


class _CallFollower:
    """The run's calls since the stream opened (earlier ones are in the transcripts)."""

    def __init__(
        self,
        calls: CallJournal,
        run_id: str,
        cursor: JournalCursor | None,
        tokens: TokenFollower,
    ) -> None:
        self._calls, self._run_id, self._cursor = calls, run_id, cursor
        self._tokens = tokens

    async def events(self) -> list[str]:
        changes = await self._calls.changes_after(self._run_id, self._cursor)
        if changes:
            self._cursor = changes[-1].cursor
        events = []
        for change in changes:
            finished = change.status == DONE
            if finished and change.kind == "llm":
                # The reply's last words, if the stream has not sent them, before the call.
                events += [sse("token", t.model_dump_json()) for t in self._tokens.ended(change)]
            events.append(sse("call", CallEvent.of(self._run_id, change).model_dump_json()))
            if finished and change.kind == "llm":
                events.append(
                    sse("llm_call", LlmCallEvent.of(self._run_id, change).model_dump_json())
                )
            elif finished:
                events.append(
                    sse("tool_call", ToolCallEvent.of(self._run_id, change).model_dump_json())
                )
        return events


def _error(run_id: str, failure: Exception) -> str:
    message = f"lost track of run {run_id}: {str(failure) or type(failure).__name__}"
    return sse("error", json.dumps({"run_id": run_id, "message": message}))


async def _watch_history(service: RunReader, run_id: str, woken: asyncio.Event) -> Exception | None:
    """Follow the run's history until it closes, or until it cannot be followed: then
    say why. Either way ``woken`` is set at the end, so the stream never waits on a
    watcher that has stopped."""
    try:
        await _follow_history(service, run_id, woken)
    except Exception as failure:  # whatever it is, the stream reports it and ends
        return failure
    finally:
        woken.set()
    return None


async def _follow_history(service: RunReader, run_id: str, woken: asyncio.Event) -> None:
    """Set ``woken`` on every new history event, across continue-as-new, until the run closes."""
    client = await service.temporal.client()
    while True:
        handle = client.get_workflow_handle(run_id)
        async for _ in handle.fetch_history_events(wait_new_event=True):
            woken.set()
        # The execution closed or continued as new: wake once more, and follow the new
        # execution if there is one (a handle without a run id describes the latest).
        woken.set()
        if (await handle.describe()).close_time is not None:
            return
