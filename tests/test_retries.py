"""Temporal owns retries: every LLM call the stub sees is one Temporal attempt."""

from __future__ import annotations

import json

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from tests.conftest import STUB_API_KEY, STUB_MODEL
from tests.helpers import (
    agent,
    assert_replays,
    fast_retry,
    marker,
    start_run,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.run_state import RunState
from workflows.status import RunStatus, StepStatus
from workflows.step_actions import StepAction


def one_step(**fields: object) -> dict[str, object]:
    return {"agents": [agent()], "steps": [task("a", retry=fast_retry(), **fields)]}


async def test_two_server_errors_then_success_completes_on_attempt_three(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(500), Reply.error(500), Reply("third time lucky"))
    handle = await start_run(client, worker, one_step())
    result = await handle.result()

    assert result.outputs_by_step()["a"] == "third time lucky"
    assert result.steps[0].attempt == 3
    assert stub_llm.call_count(marker("a")) == 3
    await assert_replays(handle)


async def test_unauthorized_fails_at_once_and_never_leaks_the_key(
    client: Client,
    worker: Worker,
    stub_llm: StubLLM,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stub_llm.script(marker("a"), Reply.echo_key_401())
    handle = await start_run(client, worker, one_step(on_failure="fail"))
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()

    assert stub_llm.call_count(marker("a")) == 1
    # The stub did echo the key; it must stop there.
    assert STUB_API_KEY in json.dumps(stub_llm.calls(marker("a"))[0].authorization)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "RunFailed"
    state = RunState.model_validate(cause.details[0])
    [step] = state.steps
    assert step.status == StepStatus.FAILED
    assert step.attempt == 1
    assert step.error is not None
    assert f"model '{STUB_MODEL}'" in step.error
    assert "AuthenticationError" in step.error
    assert STUB_API_KEY not in step.error
    history = (await handle.fetch_history()).to_json()
    assert STUB_API_KEY not in history
    printed = capfd.readouterr()
    assert STUB_API_KEY not in printed.out + printed.err  # nor the worker's console
    assert STUB_API_KEY not in caplog.text  # nor its log
    assert "AuthenticationError" in caplog.text
    await assert_replays(handle)


async def test_failed_step_pauses_the_run_until_an_operator_retries_it(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(400, "bad request"), Reply("fixed"))
    handle = await start_run(client, worker, one_step())
    paused = await wait_for_status(handle, lambda s: s.status == RunStatus.NEEDS_ATTENTION)
    assert paused.steps[0].status == StepStatus.PAUSED
    assert stub_llm.call_count(marker("a")) == 1  # a bad request is not retried

    after = await handle.execute_update(
        AgentWorkflowV2.retry_step, StepAction(step_id="a", actor="ops")
    )
    assert after.status in (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.COMPLETED)
    result = await handle.result()
    assert result.outputs_by_step()["a"] == "fixed"
    assert result.steps[0].attempt == 2
    await assert_replays(handle)


async def test_rate_limit_honours_retry_after(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.error(429, retry_after=1.5), Reply("after the wait"))
    handle = await start_run(client, worker, one_step())
    result = await handle.result()

    assert result.outputs_by_step()["a"] == "after the wait"
    assert result.steps[0].attempt == 2
    first, second = stub_llm.calls(marker("a"))  # no hidden retry layer called again
    assert first.finished_mono is not None
    # The retry policy alone would retry after 0.1 s; Retry-After said 1.5 s.
    assert second.started_mono - first.finished_mono >= 1.4


async def test_a_hung_llm_call_times_out_and_is_retried(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply.timeout(), Reply("answered"))
    handle = await start_run(client, worker, one_step(timeout_seconds=2))
    result = await handle.result()

    assert result.outputs_by_step()["a"] == "answered"
    assert result.steps[0].attempt == 2
    assert stub_llm.call_count(marker("a")) == 2
