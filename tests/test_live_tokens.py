"""Live tokens: a step's LLM reply reaches the run's event stream as it streams, beside
Temporal (db/live_tokens.py), on SQLite and on Postgres, and one turn is one HTTP call."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.event import listen

from activities.live_output import LiveCallOutput
from api.services.live_tokens import TokenFollower
from db.blobs import BlobStore
from db.call_journal import JournalChange
from db.live_token_listener import LiveTokenListener
from db.live_tokens import LIVE_TEXT_LIMIT, NOTIFY_CHARS, LiveCall, LiveTokenStore
from db.migrate import upgrade_to_head
from db.session import create_engine, session_factory
from tests.api_stack import ApiStack
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_events import read_events
from tests.test_api_runs import create_workflow, start, wait_for_run

WORDS = [f"word{i}" for i in range(40)]
REPLY = "Final Answer: " + " ".join(WORDS)
# The stub streams eight words a chunk: these are the first two chunks.
FIRST_TWO_CHUNKS = " ".join(["Final", "Answer:", *WORDS[:14]])


def one_step(**fields: Any) -> dict[str, Any]:
    return {"agents": [agent()], "steps": [task("draft", **fields)]}


async def first_token_after_snapshot(http: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    """What a page opened now sees of the step's reply: the stream's first event after
    its snapshot."""
    async with http.stream("GET", f"/runs/{run_id}/events") as response:
        events = read_events(response)
        kinds = []
        async for event, data in events:
            if event is None:
                continue
            kinds.append(event)
            if event == "token":
                assert kinds == ["snapshot", "token"]
                return dict(data)
    raise AssertionError(f"the stream ended without a token: {kinds}")


async def test_a_streaming_reply_reaches_the_console_token_by_token(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    # The reply stops after two chunks until released: the step is caught mid-reply.
    stub_llm.script(marker("draft"), Reply(REPLY, pause_after=2, chunk_delay=0.05))
    run_id = (await start(api, await create_workflow(api, one_step())))["run_id"]

    seen: list[tuple[str, dict[str, Any]]] = []
    async with api.http.stream("GET", f"/runs/{run_id}/events") as response:
        async for event, data in read_events(response):
            if event is None:
                continue
            seen.append((event, data))
            so_far = "".join(d["text"] for e, d in seen if e == "token")
            if event == "token" and so_far == FIRST_TWO_CHUNKS:
                # A page opened now starts from the text so far, in one event.
                opened = await first_token_after_snapshot(api.http, run_id)
                assert opened["text"] == FIRST_TWO_CHUNKS
                assert (opened["step_id"], opened["call_index"]) == ("draft", 0)
                stub_llm.release()
            if event == "llm_call":
                break

    tokens = [data for event, data in seen if event == "token"]
    assert "".join(t["text"] for t in tokens) == REPLY
    assert len(tokens) > 1  # it came in pieces, not at the end
    assert {(t["step_id"], t["execution"], t["attempt"], t["call_index"]) for t in tokens} == {
        ("draft", 1, 1, 0)
    }
    finished = seen[-1][1]
    assert (finished["step_id"], finished["call_index"], finished["attempt"]) == ("draft", 0, 1)
    assert finished["model"] == "openai/stub-model"
    assert finished["usage"]["completion_tokens"] == len(REPLY.split())
    assert finished["latency_ms"] > 0

    # One streaming HTTP call for the one turn: CrewAI's fallback never asked again.
    calls = stub_llm.calls(marker("draft"))
    assert [call.stream for call in calls] == [True]
    run = await wait_for_run(api, run_id, "completed")
    assert run["steps"][0]["output"] == " ".join(WORDS)
    transcript = (await api.http.get(f"/runs/{run_id}/steps/draft/transcript")).json()
    llm_calls = [c for c in transcript["attempts"][0]["entries"] if c["kind"] == "llm"]
    assert [c["reply"] for c in llm_calls] == [REPLY]
    # The call ended: its live row went, the journal keeps the reply.
    async with api.http.stream("GET", f"/runs/{run_id}/events") as response:
        assert [e async for e, _ in read_events(response) if e is not None] == ["snapshot"]


async def test_a_stream_without_text_is_not_asked_again_without_streaming(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """CrewAI's own handler silently asks again, not streaming, when a stream brings no
    text: here the empty reply is the turn's answer, from one HTTP call."""
    stub_llm.script(marker("draft"), Reply(""))
    run_id = (await start(api, await create_workflow(api, one_step())))["run_id"]
    await wait_for_run(api, run_id, "completed")
    transcript = (await api.http.get(f"/runs/{run_id}/steps/draft/transcript")).json()
    turns = [c for a in transcript["attempts"] for c in a["entries"] if c["kind"] == "llm"]
    assert [turn["reply"] for turn in turns] == [""]
    assert [call.stream for call in stub_llm.calls(marker("draft"))] == [True]


async def test_a_large_batch_arrives_whole_and_a_lost_one_is_read_again(database_url: str) -> None:
    """A batch larger than a notification's payload goes as several; a listener that
    missed one reads the row instead (on SQLite it always reads rows)."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    try:
        blobs = BlobStore(session_factory(engine))
        store, listener = LiveTokenStore(blobs), LiveTokenListener(engine, blobs)
        call = LiveCall(f"run-{uuid.uuid4()}", "draft", 1, 1, 0)
        text = "".join(f"w{i} é " for i in range(NOTIFY_CHARS))  # several notifications' worth
        async with listener.subscribe(call.run_id) as subscription:
            tokens = TokenFollower(call.run_id, subscription)
            assert await tokens.events() == []  # nothing streams yet; now it listens
            await store.publish(call, text[:10], 0)
            await store.publish(call, text, 10)

            async def joined() -> str:
                received.extend(event.text for event in await tokens.events())
                return "".join(received)

            received: list[str] = []
            assert await eventually(joined, lambda so_far: so_far == text) == text
            # A notification that never came: the next poll reads the row, and only
            # what is new goes out.
            subscription.resync()
            await store.publish(call, text + "!", len(text))
            assert await eventually(joined, lambda so_far: so_far == text + "!") == text + "!"
            await store.drop(call)
            assert await store.of_run(call.run_id) == []
    finally:
        await listener.close()
        await engine.dispose()


def test_live_text_stops_at_its_limit_and_the_reply_is_the_record() -> None:
    """A reply of megabytes is not rewritten into the live row at every batch: live text
    covers a call's first LIVE_TEXT_LIMIT characters, and so do its last token events."""
    follower = TokenFollower("run-1", None)  # type: ignore[arg-type]  # ended() reads no rows
    reply = "x" * (LIVE_TEXT_LIMIT + 5000)
    change = JournalChange(
        step_id="a",
        execution=1,
        kind="llm",
        call_index=0,
        status="done",
        attempt=1,
        record={"reply": reply},
        cursor=(datetime.now(UTC), uuid.uuid4()),
    )
    [last] = follower.ended(change)
    assert last.text == reply[:LIVE_TEXT_LIMIT]


async def test_a_call_done_within_one_batch_writes_nothing_live(database_url: str) -> None:
    """The first batch waits its 100 ms too: a reply that streams whole within it costs no
    write on the step's path (the journal carries its text to the console); one that
    streams longer is published, then flushed and dropped."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    statements: list[str] = []
    listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        store = LiveTokenStore(BlobStore(session_factory(engine)))
        loop = asyncio.get_running_loop()
        quick = LiveCallOutput(store, loop, LiveCall(f"run-{uuid.uuid4()}", "draft", 1, 1, 0))
        for word in WORDS:
            quick.add(word)
        await asyncio.sleep(0)  # add() hands each piece to the loop, as from CrewAI's
        await quick.flush()
        await quick.close()
        assert [s for s in statements if "live_tokens" in s] == []

        slow = LiveCallOutput(store, loop, LiveCall(f"run-{uuid.uuid4()}", "draft", 1, 1, 0))
        slow.add("first words")
        await eventually(lambda: store.of_run(slow.call.run_id), lambda rows: len(rows) == 1)
        slow.add(", then more")
        await asyncio.sleep(0)
        await slow.flush()
        [row] = await store.of_run(slow.call.run_id)
        assert row.text == "first words, then more"
        await slow.close()
        assert await store.of_run(slow.call.run_id) == []
    finally:
        await engine.dispose()
