"""Determinism: recorded histories replay against the current workflow code, and a
change in the commands the workflow issues is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

from tests.broken_workflow import TimerFirstAgentWorkflow
from tests.helpers import (
    HISTORIES,
    HISTORY_ID_SEPARATOR,
    agent,
    assert_replays,
    marker,
    replayer,
    start_run,
    task,
)
from tests.stub_llm import Reply, StubLLM
from workflows.registry import isolating_workflow_runner, workflow_runner


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


RECORDED = sorted(HISTORIES.glob("*.json"))
# Re-importing the workflows package for each run makes a replay seconds long: every
# fourth history, a spread across the scenarios, is replayed that way too.
ISOLATED_SAMPLE = RECORDED[::4]


def _recorded_history(path: Path) -> WorkflowHistory:
    workflow_id = path.stem.split(HISTORY_ID_SEPARATOR, 1)[1]
    return WorkflowHistory.from_json(workflow_id, path.read_text())


def _scenario(path: Path) -> str:
    return path.stem.split(HISTORY_ID_SEPARATOR)[0]


@pytest.mark.parametrize("path", RECORDED, ids=_scenario)
async def test_checked_in_histories_replay_against_the_current_code(path: Path) -> None:
    """Histories recorded from the scenarios in this suite (KASAL_RECORD_HISTORIES=1).

    If this fails after a change to a workflow, the change is not deterministic for
    runs already in flight: guard it with workflow.patched() instead of re-recording.
    """
    await replayer().replay_workflow(_recorded_history(path))


@pytest.mark.parametrize("path", ISOLATED_SAMPLE, ids=_scenario)
async def test_recorded_histories_replay_in_the_isolating_sandbox(path: Path) -> None:
    """The worker passes the workflows package through its sandbox; here it is re-imported
    for the run under the SDK's restrictions, so workflow code that reads the clock, draws
    random numbers or does I/O fails."""
    await replayer(isolating_workflow_runner()).replay_workflow(_recorded_history(path))


def test_the_replay_suite_has_histories() -> None:
    assert len(list(HISTORIES.glob("*.json"))) >= 10
