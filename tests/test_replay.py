"""Determinism: recorded histories replay against the current workflow code, and a
change in the commands the workflow issues is caught."""

from __future__ import annotations

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

from tests.broken_workflow import TimerFirstAgentWorkflow
from tests.helpers import agent, assert_replays, marker, start_run, task
from tests.stub_llm import Reply, StubLLM
from workflows.registry import workflow_runner


async def test_a_changed_workflow_fails_replay_of_an_old_history(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("a"))
    handle = await start_run(
        client, worker, {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    )
    await handle.result()
    await assert_replays(handle)

    broken = Replayer(
        workflows=[TimerFirstAgentWorkflow],
        workflow_runner=workflow_runner(),
        data_converter=pydantic_data_converter,
    )
    with pytest.raises(NondeterminismError):
        await broken.replay_workflow(await handle.fetch_history())
