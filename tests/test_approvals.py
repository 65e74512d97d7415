"""Approval gates wait durably for a decision: by update, by signal, or by their deadline."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from kasal.binaries import temporal_cli
from tests.helpers import (
    agent,
    assert_replays,
    marker,
    start_run,
    status,
    step_statuses,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.run_state import Decision
from workflows.search_attributes import KASAL_STATUS
from workflows.status import RunStatus, StepStatus


def gate(**fields: Any) -> dict[str, Any]:
    return {"id": "review", "type": "approval", "after": ["draft"], "message": "Publish?", **fields}


def gated(**gate_fields: Any) -> dict[str, Any]:
    return {
        "agents": [agent()],
        "steps": [task("draft"), gate(**gate_fields), task("publish", after=["review"])],
    }


async def waiting(handle: Any, round_: int = 1) -> None:
    await wait_for_status(
        handle,
        lambda s: (
            s.status == RunStatus.WAITING_FOR_APPROVAL
            and next(x for x in s.steps if x.id == "review").round == round_
        ),
    )


async def test_approve_by_update_continues_the_run(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("draft"), Reply("the draft"))
    stub_llm.script(marker("publish"), Reply("published"))
    handle = await start_run(client, worker, gated())
    await waiting(handle)
    assert step_statuses(await status(handle))["publish"] == StepStatus.PENDING
    assert (await handle.describe()).typed_search_attributes.get(
        KASAL_STATUS
    ) == "waiting_for_approval"

    state = await handle.execute_update(
        AgentWorkflowV2.decide,
        Decision(step_id="review", decision="approve", comment="ship it", actor="ana"),
    )
    assert state.status == StepStatus.APPROVED
    [decision] = state.decisions
    assert (decision.actor, decision.comment, decision.round) == ("ana", "ship it", 1)
    result = await handle.result()
    assert result.outcome == "completed"
    assert "the draft" in stub_llm.calls(marker("publish"))[0].messages_text
    await assert_replays(handle)


async def test_a_second_decision_is_refused(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    handle = await start_run(client, worker, gated())
    await waiting(handle)
    await handle.execute_update(
        AgentWorkflowV2.decide, Decision(step_id="review", decision="approve")
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            AgentWorkflowV2.decide, Decision(step_id="review", decision="reject")
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "NotWaiting"
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await handle.execute_update(
            AgentWorkflowV2.decide, Decision(step_id="nope", decision="approve")
        )
    assert isinstance(unknown.value.cause, ApplicationError)
    assert unknown.value.cause.type == "UnknownStep"
    assert (await handle.result()).outcome == "completed"


async def test_reject_ends_the_run_rejected(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    handle = await start_run(client, worker, gated())
    await waiting(handle)
    await handle.execute_update(
        AgentWorkflowV2.decide, Decision(step_id="review", decision="reject", comment="no")
    )
    result = await handle.result()
    assert result.outcome == "rejected"
    assert step_statuses(await status(handle)) == {
        "draft": StepStatus.COMPLETED,
        "review": StepStatus.REJECTED,
        # A closed run ends every step that never ran: none of them ever will.
        "publish": StepStatus.CANCELLED,
    }
    assert (await handle.describe()).typed_search_attributes.get(KASAL_STATUS) == "rejected"
    assert stub_llm.call_count(marker("publish")) == 0
    await assert_replays(handle)


async def test_reject_with_retry_upstream_reruns_the_draft_with_feedback(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("draft"), Reply("draft one"), Reply("draft two"))
    handle = await start_run(client, worker, gated(on_reject="retry_upstream", max_rejections=2))
    await waiting(handle, round_=1)
    await handle.execute_update(
        AgentWorkflowV2.decide,
        Decision(step_id="review", decision="reject", comment="add sources", round=1),
    )
    await waiting(handle, round_=2)
    second_draft = stub_llm.calls(marker("draft"))[1]
    assert "add sources" in second_draft.messages_text
    with pytest.raises(WorkflowUpdateFailedError) as stale:
        await handle.execute_update(
            AgentWorkflowV2.decide, Decision(step_id="review", decision="approve", round=1)
        )
    assert isinstance(stale.value.cause, ApplicationError)
    assert stale.value.cause.type == "StaleRound"
    await handle.execute_update(
        AgentWorkflowV2.decide, Decision(step_id="review", decision="approve", round=2)
    )
    result = await handle.result()
    assert result.outputs_by_step()["draft"] == "draft two"
    review = next(s for s in result.steps if s.id == "review")
    assert [(d.decision, d.round) for d in review.decisions] == [("reject", 1), ("approve", 2)]
    await assert_replays(handle)


@pytest.mark.parametrize(
    ("on_timeout", "outcome"), [("approve", "completed"), ("reject", "rejected")]
)
async def test_a_gate_decides_itself_at_its_deadline(
    client: Client, worker: Worker, stub_llm: StubLLM, on_timeout: str, outcome: str
) -> None:
    handle = await start_run(client, worker, gated(timeout_seconds=1, on_timeout=on_timeout))
    result = await handle.result()
    assert result.outcome == outcome
    review = next(s for s in result.steps if s.id == "review")
    assert review.decisions[0].actor == "timeout"
    await assert_replays(handle)


async def test_on_timeout_fail_fails_the_run(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    handle = await start_run(client, worker, gated(timeout_seconds=1, on_timeout="fail"))
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, ApplicationError)
    assert "review" in failure.value.cause.message
    await assert_replays(handle)


async def test_an_invalid_signal_is_logged_and_ignored(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    handle = await start_run(client, worker, gated())
    await waiting(handle)
    await handle.signal(AgentWorkflowV2.decision, Decision(step_id="draft", decision="approve"))
    await handle.signal(AgentWorkflowV2.decision, Decision(step_id="ghost", decision="approve"))
    state = await wait_for_status(handle, lambda s: any(x.log for x in s.steps if x.id == "draft"))
    draft = next(x for x in state.steps if x.id == "draft")
    assert "completed, not waiting" in draft.log[0]
    assert state.status == RunStatus.WAITING_FOR_APPROVAL
    await handle.signal(AgentWorkflowV2.decision, Decision(step_id="review", decision="approve"))
    assert (await handle.result()).outcome == "completed"
    await assert_replays(handle)


async def test_approve_by_signal_from_the_temporal_cli(
    client: Client, worker: Worker, stub_llm: StubLLM, temporal_env: WorkflowEnvironment
) -> None:
    handle = await start_run(client, worker, gated())
    await waiting(handle)
    payload = {"step_id": "review", "decision": "approve", "comment": "lgtm", "actor": "cli"}
    process = await asyncio.create_subprocess_exec(
        str(temporal_cli()),
        "workflow",
        "signal",
        "--address",
        temporal_env.client.service_client.config.target_host,
        "--workflow-id",
        handle.id,
        "--name",
        "decision",
        "--input",
        json.dumps(payload),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    result = await handle.result()
    review = next(s for s in result.steps if s.id == "review")
    assert review.decisions[0].actor == "cli"
    assert review.status == StepStatus.APPROVED
    await assert_replays(handle)
