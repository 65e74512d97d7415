"""The engine end to end: a real Temporal dev server, a real worker, CrewAI, litellm and
the stub LLM over HTTP."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from db.blobs import BlobStore
from tests.helpers import (
    agent,
    assert_replays,
    marker,
    start_run,
    step_statuses,
    step_transcript,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.status import RunStatus, StepStatus


def diamond() -> dict[str, object]:
    return {
        "agents": [agent()],
        "steps": [task("a"), task("b"), task("c", after=["a", "b"])],
    }


async def test_diamond_runs_parallel_branches_and_joins_their_outputs(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("alpha-output-7781", delay=1.0))
    stub_llm.script(marker("b"), Reply("beta-output-9152", delay=1.0))
    stub_llm.script(marker("c"), Reply("gamma-output", delay=1.5))

    handle = await start_run(client, worker, diamond())
    mid_run = await wait_for_status(handle, lambda s: step_statuses(s)["c"] == StepStatus.RUNNING)
    assert step_statuses(mid_run) == {
        "a": StepStatus.COMPLETED,
        "b": StepStatus.COMPLETED,
        "c": StepStatus.RUNNING,
    }
    assert mid_run.status == RunStatus.RUNNING
    result = await handle.result()

    assert result.outcome == "completed"
    assert result.outputs_by_step() == {
        "a": "alpha-output-7781",
        "b": "beta-output-9152",
        "c": "gamma-output",
    }
    assert result.final_output == "gamma-output"
    # c's request carries both upstream outputs as context.
    [c_call] = stub_llm.calls(marker("c"))
    assert "alpha-output-7781" in c_call.messages_text
    assert "beta-output-9152" in c_call.messages_text
    # a and b overlapped in time, as the stub saw them.
    [a_call], [b_call] = stub_llm.calls(marker("a")), stub_llm.calls(marker("b"))
    assert a_call.started_mono < b_call.finished_mono
    assert b_call.started_mono < a_call.finished_mono
    await assert_replays(handle)


async def test_steps_record_usage_transcript_and_times(
    client: Client, worker: Worker, stub_llm: StubLLM, blob_store: BlobStore
) -> None:
    stub_llm.script(marker("a"), Reply("one two three"))
    handle = await start_run(client, worker, {"agents": [agent()], "steps": [task("a")]})
    result = await handle.result()

    [step] = result.steps
    assert step.status == StepStatus.COMPLETED
    assert step.attempt == 1
    assert step.started_at is not None and step.finished_at is not None
    assert step.started_at <= step.finished_at
    assert step.usage is not None
    assert step.usage.llm_calls == 1
    assert step.usage.completion_tokens > 0
    [llm_call] = await step_transcript(blob_store, handle.id, step)
    assert llm_call.kind == "llm"
    assert llm_call.reply == "one two three"
    assert marker("a") in " ".join(m["content"] for m in llm_call.messages)


async def test_rendered_text_is_never_interpolated_again(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    definition = {
        "inputs": [{"name": "topic"}],
        "agents": [agent(role="Writer on {topic}")],
        "steps": [task("a", description='STEP-A about {topic}, as JSON {{"k": 1}}')],
    }
    handle = await start_run(client, worker, definition, {"topic": "{evil}"})
    await handle.result()

    [call] = stub_llm.calls()
    assert 'STEP-A about {evil}, as JSON {"k": 1}' in call.messages_text
    assert "Writer on {evil}" in call.messages_text


async def test_max_parallel_caps_activities_in_flight(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script("STEP-", Reply("done", delay=0.4))
    definition = {
        "agents": [agent()],
        "steps": [task(f"s{i}") for i in range(4)],
        "max_parallel": 2,
    }
    handle = await start_run(client, worker, definition)
    await handle.result()

    calls = stub_llm.calls()
    assert len(calls) == 4
    for call in calls:
        overlapping = [
            other
            for other in calls
            if other.started_mono < call.finished_mono and call.started_mono < other.finished_mono
        ]
        assert len(overlapping) <= 2  # itself and at most one other


async def test_status_query_reports_pending_steps_before_they_start(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("a done", delay=1.0))
    handle = await start_run(
        client, worker, {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    )
    state = await wait_for_status(handle, lambda s: step_statuses(s)["a"] == StepStatus.RUNNING)
    assert step_statuses(state)["b"] == StepStatus.PENDING
    await handle.result()
