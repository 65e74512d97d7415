"""The call journal makes a retried step exactly-once for what already finished: its LLM
calls are not paid again and its tool calls are not made again, counted at the stub LLM
and at the tool's server. A call that is not idempotent and whose outcome is unknown is
never repeated blindly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND, AttemptTranscript
from api.services.call_records import attempt_transcript
from db.blobs import BlobStore
from db.call_journal import DONE, INTENT, CallJournal
from db.migrate import upgrade_to_head
from db.repositories.call_journal import CallKey
from db.session import create_engine, session_factory
from tests.helpers import (
    agent,
    eventually,
    fast_retry,
    marker,
    start_run,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from tests.tool_server import ToolServer
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.run_state import AgentWorkflowResult
from workflows.status import StepStatus
from workflows.step_actions import StepAction
from workflows.tools import HttpToolSpec, PinnedTool

CITY_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def weather_tool(server: ToolServer) -> PinnedTool:
    return PinnedTool(
        name="weather",
        kind="http",
        description="The weather in a city.",
        args_schema=CITY_SCHEMA,
        http=HttpToolSpec(method="GET", url_template=f"{server.url}/weather/{{city}}"),
    )


def react(tool: str, arguments: dict[str, Any]) -> Reply:
    return Reply(f"Thought: A tool helps.\nAction: {tool}\nAction Input: {json.dumps(arguments)}")


async def transcripts(blob_store: BlobStore, run_id: str, attempts: int) -> list[list[Any]]:
    """The step's attempts' transcripts, by attempt. A cancelled attempt's may be stored
    after the next attempt's: its worker hears of the timeout at its next heartbeat."""

    journal = CallJournal(blob_store)

    async def stored() -> list[AttemptTranscript]:
        found = await blob_store.contents_of_run(run_id, ATTEMPT_TRANSCRIPT_KIND)
        return [await attempt_transcript(journal, run_id, "a", content) for content in found]

    kept = await eventually(stored, lambda found: len(found) == attempts)
    return [t.entries for t in sorted(kept, key=lambda t: t.attempt)]


async def test_a_retried_step_pays_only_for_the_call_that_failed(
    client: Client,
    worker: Worker,
    stub_llm: StubLLM,
    tool_server: ToolServer,
    blob_store: BlobStore,
) -> None:
    # Attempt 1: three LLM calls (a tool call, then twice a tool that does not exist),
    # one call at the tool's server, and the fourth LLM call fails.
    stub_llm.script(
        marker("a"),
        react("weather", {"city": "Paris"}),
        react("no_such_tool", {}),
        react("no_such_tool", {}),
        Reply.error(500, "the model's server fell over"),
        Reply("Thought: Done.\nFinal Answer: sunny in Paris"),
    )
    spec = {
        "agents": [agent(tools=["weather"])],
        "steps": [task("a", retry=fast_retry(max_attempts=2))],
    }
    handle = await start_run(client, worker, spec, tools={"weather": weather_tool(tool_server)})
    result: AgentWorkflowResult = await handle.result()

    assert result.outcome == "completed"
    assert result.steps[0].output == "sunny in Paris"
    assert stub_llm.call_count(marker("a")) == 5  # 4 in attempt 1, exactly 1 new in attempt 2
    assert tool_server.count("/weather/") == 1  # and no new tool call
    first, second = await transcripts(blob_store, handle.id, attempts=2)
    assert [e.kind for e in first] == ["llm", "tool", "llm", "llm"]
    assert [(e.kind, e.replayed) for e in second] == [
        ("llm", True),
        ("tool", True),
        ("llm", True),
        ("llm", True),
        ("llm", False),
    ]
    # Each answered call is counted once: the attempt that finished reports the three it
    # replayed (made and paid for by attempt 1, which failed and reported nothing) and its
    # own; the call that failed answered nothing.
    assert result.steps[0].usage.llm_calls == 4


async def test_a_call_that_is_not_idempotent_and_whose_outcome_is_unknown_is_not_made_again(
    client: Client,
    worker: Worker,
    stub_llm: StubLLM,
    tool_server: ToolServer,
    blob_store: BlobStore,
) -> None:
    order = PinnedTool(
        name="create_order",
        kind="http",
        description="Create an order.",
        args_schema={"type": "object", "properties": {"item": {"type": "string"}}},
        idempotent=False,
        http=HttpToolSpec(method="POST", url_template=f"{tool_server.url}/slow-orders"),
    )
    stub_llm.script(
        marker("a"),
        react("create_order", {"item": "book"}),
        Reply("Thought: I cannot tell.\nFinal Answer: the order may exist; check it"),
    )
    # The order's server hangs; the attempt times out in the middle of the call.
    spec = {
        "agents": [agent(tools=["create_order"])],
        "steps": [task("a", timeout_seconds=3, retry=fast_retry(max_attempts=2))],
    }
    handle = await start_run(client, worker, spec, tools={"create_order": order})
    result: AgentWorkflowResult = await handle.result()

    assert result.outcome == "completed"
    assert tool_server.count("/slow-orders") == 1  # the retry did not order again
    assert stub_llm.call_count(marker("a")) == 2  # the first reply was replayed
    told = stub_llm.calls(marker("a"))[1].messages_text
    assert "outcome of this call is unknown" in told
    _, retried = await transcripts(blob_store, handle.id, attempts=2)
    assert [(e.kind, e.replayed, getattr(e, "error", None)) for e in retried] == [
        ("llm", True, None),
        ("tool", False, "outcome unknown"),
        ("llm", False, None),
    ]


async def test_an_operators_retry_of_a_paused_step_starts_a_fresh_journal(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    # The fix an operator made before retrying may change the answers: nothing replays.
    stub_llm.script(
        marker("a"),
        react("calculate", {"expression": "1+1"}),
        Reply.error(401, "bad key"),
        react("calculate", {"expression": "1+1"}),
        Reply("Thought: Done.\nFinal Answer: two"),
    )
    spec = {"agents": [agent(tools=["calculate"])], "steps": [task("a", retry=fast_retry(1))]}
    handle = await start_run(client, worker, spec)
    await wait_for_status(handle, lambda state: state.steps[0].status == StepStatus.PAUSED)

    await handle.execute_update(AgentWorkflowV2.retry_step, StepAction(step_id="a"))
    result = await handle.result()

    assert result.outcome == "completed"
    assert stub_llm.call_count(marker("a")) == 4  # the first call was made again


async def test_a_finished_call_keeps_one_row_over_its_intent_and_its_retries(
    database_url: str,
) -> None:
    """On SQLite and Postgres: the record replaces the intent, a later attempt's record
    replaces an earlier one, and a call without an intent gets its row at once."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    try:
        journal = CallJournal(BlobStore(session_factory(engine)))
        intended, direct = (
            CallKey("run-1", "a", 1, kind, 0, f"hash-{kind}") for kind in ("tool", "llm")
        )
        await journal.intend(intended, 1, {"asks": "x"})
        assert (await journal.find(intended)).status == INTENT  # type: ignore[union-attr]
        await journal.record(intended, 1, {"reply": "first"})
        await journal.record(intended, 2, {"reply": "second"})
        await journal.record(direct, 1, {"reply": "at once"})
        calls = await journal.calls_of_execution("run-1", "a", 1)
        assert {key: (row.status, row.record) for key, row in calls.items()} == {
            ("tool", 0, "hash-tool"): (DONE, {"reply": "second"}),
            ("llm", 0, "hash-llm"): (DONE, {"reply": "at once"}),
        }
        [change] = [c for c in await journal.changes_after("run-1", None) if c.kind == "tool"]
        assert change.attempt == 2
    finally:
        await engine.dispose()
