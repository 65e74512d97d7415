"""Small helpers shared by the engine tests."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker, WorkflowRunner

from api.services.call_records import attempt_transcript
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.payload_store import inline_history, payload_store_of
from tests.conftest import STUB_MODEL
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.compiler import compile_plan
from workflows.engine.state import AgentWorkflowV2Input
from workflows.plan_building import NO_CHILDREN, Children
from workflows.registry import WORKFLOWS, workflow_runner
from workflows.run_state import AgentWorkflowResult, RunState, StepState
from workflows.status import StepStatus
from workflows.tools import PinnedTool

T = TypeVar("T")
HISTORIES = Path(__file__).parent / "histories"
HISTORY_ID_SEPARATOR = "--"
RunHandle = WorkflowHandle[AgentWorkflowV2, AgentWorkflowResult]


def agent(agent_id: str = "writer", llm: str = STUB_MODEL, **fields: Any) -> dict[str, Any]:
    return {
        "id": agent_id,
        "role": "Writer",
        "goal": "Write well",
        "backstory": "A careful writer.",
        "llm": llm,
        **fields,
    }


def task(step_id: str, after: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    # The marker lets the stub LLM tell the steps' requests apart.
    return {
        "id": step_id,
        "type": "task",
        "agent": "writer",
        "description": f"Do step STEP-{step_id.upper()}.",
        "expected_output": "A short answer.",
        "after": after or [],
        **fields,
    }


def city_map(*after_map: dict[str, Any], **map_fields: Any) -> dict[str, Any]:
    """A definition whose map ``each`` summarizes every city of the input ``cities``, its
    calls marked ``CITY=<city>``; then the steps ``after_map``."""
    each = {
        "id": "each",
        "type": "map",
        "items": "cities",
        **map_fields,
        "steps": [task("summarize", description="Summarize CITY={item}.")],
    }
    return {
        "inputs": [{"name": "cities"}],
        "agents": [agent()],
        "steps": [each, *after_map],
    }


def marker(step_id: str) -> str:
    return f"STEP-{step_id.upper()}"


def fast_retry(max_attempts: int = 3) -> dict[str, Any]:
    return {"max_attempts": max_attempts, "initial_interval_seconds": 0.1, "backoff": 1.0}


async def start_run(
    client: Client,
    worker: Worker,
    definition: dict[str, Any],
    inputs: dict[str, Any] | None = None,
    workflow_id: str | None = None,
    models: Iterable[str] = (STUB_MODEL,),
    tools: Mapping[str, PinnedTool] | None = None,
    children: Children = NO_CHILDREN,
) -> RunHandle:
    plan = compile_plan(definition, inputs or {}, models, tools or {}, children)
    return await client.start_workflow(
        AgentWorkflowV2.run,
        AgentWorkflowV2Input(plan=plan),
        id=workflow_id or f"run-{time.monotonic_ns()}",
        task_queue=worker.task_queue,
    )


async def status(handle: RunHandle) -> RunState:
    return await handle.query(AgentWorkflowV2.status)


async def wait_for_status(
    handle: RunHandle, predicate: Callable[[RunState], bool], timeout: float = 15
) -> RunState:
    """Poll the `status` query until ``predicate`` holds."""
    return await eventually(lambda: status(handle), predicate, timeout)


async def eventually(
    probe: Callable[[], Awaitable[T]], predicate: Callable[[T], bool], timeout: float = 15
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.1)


async def continued_as_new(client: Client, workflow_id: str, timeout: float = 30) -> None:
    """Wait until Temporal lists one of the workflow's executions as continued as new.

    Visibility is eventually consistent: an execution that has just continued as new may
    still be listed as running for a moment after its successor is."""

    async def statuses() -> set[WorkflowExecutionStatus | None]:
        query = f"WorkflowId = '{workflow_id}'"
        return {execution.status async for execution in client.list_workflows(query)}

    await eventually(
        statuses, lambda found: WorkflowExecutionStatus.CONTINUED_AS_NEW in found, timeout
    )


def step_statuses(state: RunState) -> dict[str, StepStatus]:
    return {s.id: s.status for s in state.steps}


def replayer(runner: WorkflowRunner | None = None) -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        workflow_runner=runner or workflow_runner(),
        data_converter=pydantic_data_converter,
    )


async def assert_replays(handle: WorkflowHandle[Any, Any]) -> None:
    """Replay the run's recorded history against the current workflow code.

    With KASAL_RECORD_HISTORIES=1 the history is also saved under tests/histories/, named
    after the test, for the checked-in replay suite (tests/test_replay.py).
    """
    # The server's history holds references for payloads over 16 KB; the one replayed and
    # recorded here holds those payloads inline, so the checked-in suite needs no store.
    history = await handle.fetch_history()
    converter = handle._client.data_converter
    if converter.external_storage is not None:
        history = await inline_history(history, payload_store_of(converter))
    await replayer().replay_workflow(history)
    if os.environ.get("KASAL_RECORD_HISTORIES"):
        test = os.environ["PYTEST_CURRENT_TEST"].split(" ")[0].split("::")[-1]
        HISTORIES.mkdir(exist_ok=True)
        # The workflow id is part of the name: replay needs it, and the file has no room.
        name = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', test)}{HISTORY_ID_SEPARATOR}{handle.id}"
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def step_transcript(blob_store: BlobStore, run_id: str, step: StepState) -> list[Any]:
    """The step's transcript as the API reads it: its last attempt's record, resolved
    through the call journal."""
    assert step.transcript_ref is not None  # transcripts never enter the history
    stored = await blob_store.get_many([step.transcript_ref])
    journal = CallJournal(blob_store)
    record = await attempt_transcript(journal, run_id, step.id, stored[step.transcript_ref])
    return list(record.entries)
