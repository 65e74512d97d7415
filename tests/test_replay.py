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


@pytest.mark.parametrize(
    "path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem.split(HISTORY_ID_SEPARATOR)[0]
)
async def test_checked_in_histories_replay_against_the_current_code(path: Path) -> None:
    """Histories recorded from the scenarios in this suite (KASAL_RECORD_HISTORIES=1).

    If this fails after a change to a workflow, the change is not deterministic for
    runs already in flight: guard it with workflow.patched() instead of re-recording.
    """
    workflow_id = path.stem.split(HISTORY_ID_SEPARATOR, 1)[1]
    history = WorkflowHistory.from_json(workflow_id, path.read_text())
    await replayer().replay_workflow(history)


def test_the_replay_suite_has_histories() -> None:
    assert len(list(HISTORIES.glob("*.json"))) >= 10
