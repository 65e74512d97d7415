"""Conditions, routers, maps, loops and sub-workflows on a real Temporal dev server, a real
worker and the stub LLM over HTTP (issue 12)."""

from __future__ import annotations

import json
import os
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from api.services.run_fold import fold_history
from db.blobs import BlobStore
from tests.helpers import (
    agent,
    assert_replays,
    city_map,
    eventually,
    marker,
    start_run,
    step_statuses,
    task,
    wait_for_status,
)
from tests.stub_llm import Reply, StubLLM
from workflows.agent_workflow_v2 import AgentWorkflowV2
from workflows.definition import WorkflowDefinition
from workflows.plan import ChildWorkflow
from workflows.run_state import Decision, StepState
from workflows.status import RunStatus, StepStatus
from workflows.step_actions import StepAction


def triage() -> dict[str, Any]:
    """classify → router → refund | bug | other, then a reply that joins whichever ran."""
    return {
        "agents": [agent()],
        "steps": [
            task("classify"),
            {
                "id": "route",
                "type": "router",
                "after": ["classify"],
                "routes": [
                    {"name": "refund", "if": 'output("classify").label == "refund"'},
                    {"name": "bug", "if": 'output("classify").label matches "^bug"'},
                ],
                "default": "other",
                "targets": {"refund": ["refund"], "bug": ["bug"], "other": ["other"]},
            },
            task("refund", after=["route"]),
            task("bug", after=["route"]),
            task("other", after=["route"]),
            task("reply", after=["refund", "bug", "other"]),
        ],
    }


async def test_a_router_takes_the_first_route_that_holds_and_the_join_runs_once(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("classify"), Reply(json.dumps({"label": "bug-report"})))
    stub_llm.script(marker("bug"), Reply("bug-branch-output"))
    stub_llm.script(marker("reply"))

    handle = await start_run(client, worker, triage())
    result = await handle.result()

    assert {s.id: s.status for s in result.steps} == {
        "classify": StepStatus.COMPLETED,
        "route": StepStatus.COMPLETED,
        "refund": StepStatus.NOT_TAKEN,
        "bug": StepStatus.COMPLETED,
        "other": StepStatus.NOT_TAKEN,
        "reply": StepStatus.COMPLETED,
    }
    assert {s.id: s.branch for s in result.steps}["route"] == "bug"
    assert stub_llm.call_count(marker("refund")) == 0
    assert stub_llm.call_count(marker("other")) == 0
    # The join reads the branch that ran, looking through the router.
    [reply_call] = stub_llm.calls(marker("reply"))
    assert "bug-branch-output" in reply_call.messages_text
    await assert_replays(handle)


async def test_the_default_route_runs_when_none_holds(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("classify"), Reply("not json at all"))
    result = await (await start_run(client, worker, triage())).result()
    statuses = {s.id: s.status for s in result.steps}
    assert statuses["other"] == StepStatus.COMPLETED
    assert statuses["refund"] == statuses["bug"] == StepStatus.NOT_TAKEN


async def test_a_condition_leaves_its_else_branch_and_what_only_it_feeds_not_taken(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("score"), Reply('{"score": 0.9}'))
    definition = {
        "inputs": [{"name": "threshold", "default": "0.5"}],
        "agents": [agent()],
        "steps": [
            task("score"),
            {
                "id": "good",
                "type": "condition",
                "after": ["score"],
                "if": 'output("score").score >= threshold',
                "then": ["publish"],
                "else": ["rewrite"],
            },
            task("publish", after=["good"]),
            task("rewrite", after=["good"]),
            task("review_rewrite", after=["rewrite"]),
        ],
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()
    assert {s.id: s.status for s in result.steps} == {
        "score": StepStatus.COMPLETED,
        "good": StepStatus.COMPLETED,
        "publish": StepStatus.COMPLETED,
        "rewrite": StepStatus.NOT_TAKEN,
        "review_rewrite": StepStatus.NOT_TAKEN,
    }
    assert result.final_step_ids == ["publish"]
    await assert_replays(handle)
    await assert_the_fold_agrees(client, handle.id, result.steps)


async def test_a_condition_that_cannot_be_evaluated_pauses_and_a_skip_takes_no_branch(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("score"), Reply('{"score": "high"}'))
    definition = {
        "agents": [agent()],
        "steps": [
            task("score"),
            {
                "id": "good",
                "type": "condition",
                "after": ["score"],
                "if": 'output("score").score > 0.5',
                "then": ["publish"],
            },
            task("publish", after=["good"]),
            task("archive", after=["score"]),
        ],
    }
    handle = await start_run(client, worker, definition)
    paused = await wait_for_status(handle, lambda s: s.status == RunStatus.NEEDS_ATTENTION)
    good = next(s for s in paused.steps if s.id == "good")
    assert good.status == StepStatus.PAUSED
    assert good.error is not None and "cannot order" in good.error
    await handle.execute_update(AgentWorkflowV2.skip_step, StepAction(step_id="good"))
    result = await handle.result()
    statuses = {s.id: s.status for s in result.steps}
    assert statuses["publish"] == StepStatus.NOT_TAKEN
    assert statuses["archive"] == StepStatus.COMPLETED


async def test_a_map_runs_each_item_in_chunks_and_keeps_item_order(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    cities = ["Oslo", "Lima", "Kyiv", "Pune", "Bern"]
    stub_llm.script(marker("list"), Reply(json.dumps(cities)))
    stub_llm.script(marker("combine"))
    for city in cities:
        stub_llm.script(f"CITY={city}", Reply(f"summary of {city}", delay=0.2))
    definition = {
        "agents": [agent()],
        "steps": [
            task("list"),
            {
                "id": "each",
                "type": "map",
                "after": ["list"],
                "items": 'output("list")',
                "max_parallel": 2,
                "chunk_size": 2,
                "steps": [
                    task("summarize", description="Summarize CITY={item} (#{index})."),
                ],
            },
            task("combine", after=["each"]),
        ],
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()

    each = next(s for s in result.steps if s.id == "each")
    assert each.status == StepStatus.COMPLETED
    assert json.loads(each.output or "") == [f"summary of {city}" for city in cities]
    assert (each.items_total, each.items_done) == (5, 5)
    # Three chunks of at most two items, each its own child run.
    assert len(each.child_run_ids) == 3
    [combine_call] = stub_llm.calls(marker("combine"))
    assert "summary of Bern" in combine_call.messages_text
    await assert_replays(handle)
    await assert_the_fold_agrees(client, handle.id, result.steps)


async def test_a_maps_large_results_are_stored_in_batches_and_joined_in_item_order(
    client: Client, worker: Worker, stub_llm: StubLLM, blob_store: BlobStore
) -> None:
    cities = ["Oslo", "Lima", "Kyiv"]
    for city in cities:
        stub_llm.script(f"CITY={city}", Reply(f"{city} " * 150))
    stub_llm.script(marker("combine"))
    definition = city_map(task("combine", after=["each"]), chunk_size=2)
    handle = await start_run(client, worker, definition, {"cities": json.dumps(cities)})
    result = await handle.result()

    each = next(s for s in result.steps if s.id == "each")
    assert each.status == StepStatus.COMPLETED and each.output_ref is not None
    whole = await blob_store.get_many([each.output_ref])
    assert [o.split()[0] for o in json.loads(whole[each.output_ref])] == cities
    # The next step reads the whole list, not the preview.
    [combine_call] = stub_llm.calls(marker("combine"))
    assert "Kyiv Kyiv" in combine_call.messages_text
    await assert_replays(handle)
    await assert_the_fold_agrees(client, handle.id, result.steps)


async def assert_the_fold_agrees(client: Client, run_id: str, steps: list[StepState]) -> None:
    """The API's history fold reads a finished run as the workflow ended it."""
    handle = client.get_workflow_handle(run_id)
    folded = await fold_history(
        [e async for e in handle.fetch_history_events()], client.data_converter
    )
    assert folded is not None
    fields = (
        "status",
        "output",
        "output_ref",
        "branch",
        "child_run_ids",
        "items_done",
        "iteration",
    )
    assert [s.model_dump(include=set(fields)) for s in folded.steps.values()] == [
        s.model_dump(include=set(fields)) for s in steps
    ]


async def test_a_map_item_that_fails_pauses_only_that_item(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script("CITY=Lima", Reply(status=401), Reply("summary of Lima"))
    stub_llm.script("CITY=", Reply("fine"))
    handle = await start_run(client, worker, city_map(), {"cities": '["Oslo", "Lima", "Bern"]'})
    parent = await wait_for_status(handle, lambda s: s.status == RunStatus.NEEDS_ATTENTION)
    each = next(s for s in parent.steps if s.id == "each")
    assert each.status == StepStatus.RUNNING
    assert each.child_status == RunStatus.NEEDS_ATTENTION
    [child_id] = each.child_run_ids
    child = client.get_workflow_handle_for(AgentWorkflowV2.run, child_id)
    # The child says it needs attention as soon as Lima pauses; its siblings finish apart.
    child_state = await wait_for_status(
        child, lambda s: StepStatus.RUNNING not in step_statuses(s).values()
    )
    assert step_statuses(child_state) == {
        "summarize-0": StepStatus.COMPLETED,
        "summarize-1": StepStatus.PAUSED,
        "summarize-2": StepStatus.COMPLETED,
    }
    await child.execute_update(AgentWorkflowV2.retry_step, StepAction(step_id="summarize-1"))
    result = await handle.result()
    each_done = next(s for s in result.steps if s.id == "each")
    assert json.loads(each_done.output or "") == ["fine", "summary of Lima", "fine"]
    assert each_done.child_status is None
    await assert_replays(handle)
    await assert_replays(child)


async def test_a_loop_repeats_until_its_condition_holds_and_sees_the_last_iteration(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(
        marker("draft"),
        Reply('{"done": false, "text": "draft-one"}'),
        Reply('{"done": true, "text": "draft-two"}'),
    )
    definition = {
        "agents": [agent()],
        "steps": [
            {
                "id": "refine",
                "type": "loop",
                "until": 'output("draft").done == true',
                "max_iterations": 5,
                "steps": [task("draft", description="Do step STEP-DRAFT, round {iteration}.")],
            }
        ],
    }
    handle = await start_run(client, worker, definition)
    result = await handle.result()
    [refine] = result.steps
    assert refine.iteration == 2
    await assert_the_fold_agrees(client, handle.id, result.steps)
    assert json.loads(refine.output or "")["text"] == "draft-two"
    second = stub_llm.calls(marker("draft"))[1]
    assert "round 2" in second.messages_text
    assert "draft-one" in second.messages_text  # the previous iteration's output
    await assert_replays(handle)


async def test_a_loop_stops_at_max_iterations(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("draft"), Reply("never done"))
    definition = {
        "agents": [agent()],
        "steps": [
            {
                "id": "refine",
                "type": "loop",
                "until": 'output("draft") contains "DONE"',
                "max_iterations": 3,
                "steps": [task("draft")],
            }
        ],
    }
    result = await (await start_run(client, worker, definition)).result()
    assert result.steps[0].iteration == 3
    assert stub_llm.call_count(marker("draft")) == 3


def research_child() -> ChildWorkflow:
    definition = WorkflowDefinition.model_validate(
        {
            "inputs": [{"name": "topic"}],
            "agents": [agent()],
            "steps": [
                task("research", description="Do step STEP-RESEARCH on {topic}."),
                {
                    "id": "check",
                    "type": "approval",
                    "after": ["research"],
                    "message": "Is the research good?",
                },
            ],
        }
    )
    return ChildWorkflow(
        workflow_id="00000000-0000-0000-0000-000000000001",
        workflow_name="research",
        version=2,
        definition=definition,
    )


CHILDREN = {"research@latest": research_child()}


async def test_a_sub_workflow_runs_as_a_child_and_its_gate_shows_in_the_parent(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("pick"), Reply('{"topic": "tides"}'))
    stub_llm.script(marker("research"), Reply("research-about-tides"))
    definition = {
        "agents": [agent()],
        "steps": [
            task("pick"),
            {
                "id": "sub",
                "type": "workflow",
                "after": ["pick"],
                "workflow": "research",
                "inputs": {"topic": {"expr": 'output("pick").topic'}},
            },
            task("write", after=["sub"]),
        ],
    }
    handle = await start_run(client, worker, definition, children=CHILDREN)
    waiting = await wait_for_status(
        handle, lambda s: s.status == RunStatus.WAITING_FOR_APPROVAL, timeout=30
    )
    sub = next(s for s in waiting.steps if s.id == "sub")
    [child_id] = sub.child_run_ids
    child = client.get_workflow_handle_for(AgentWorkflowV2.run, child_id)
    assert "tides" in stub_llm.calls(marker("research"))[0].messages_text
    await child.execute_update(
        AgentWorkflowV2.decide, Decision(step_id="check", decision="approve", actor="ada")
    )
    result = await handle.result()
    statuses = {s.id: s.status for s in result.steps}
    assert statuses == {
        "pick": StepStatus.COMPLETED,
        "sub": StepStatus.COMPLETED,
        "write": StepStatus.COMPLETED,
    }
    await assert_the_fold_agrees(client, handle.id, result.steps)
    assert next(s for s in result.steps if s.id == "sub").output == "research-about-tides"
    described = await eventually(
        child.describe, lambda d: d.status is not None and d.status.name == "COMPLETED"
    )
    assert described.search_attributes.get("KasalWorkflowName") == ["research"]
    await assert_replays(handle)
    await assert_replays(child)


async def test_cancelling_a_parent_cancels_its_waiting_child(
    client: Client, worker: Worker, stub_llm: StubLLM
) -> None:
    definition = {
        "agents": [agent()],
        "steps": [
            {
                "id": "sub",
                "type": "workflow",
                "workflow": "research",
                "inputs": {"topic": "moons"},
            }
        ],
    }
    handle = await start_run(client, worker, definition, children=CHILDREN)
    waiting = await wait_for_status(
        handle, lambda s: s.status == RunStatus.WAITING_FOR_APPROVAL, timeout=30
    )
    [child_id] = waiting.steps[0].child_run_ids
    await handle.cancel()
    child = client.get_workflow_handle(child_id)
    described = await eventually(
        child.describe, lambda d: d.status is not None and d.status.name != "RUNNING"
    )
    assert described.status is not None and described.status.name == "CANCELED"
    await eventually(handle.describe, lambda d: d.status is not None and d.status.name != "RUNNING")
    await assert_replays(handle)
    await assert_the_fold_agrees(
        client,
        handle.id,
        [s.model_copy(update={"status": StepStatus.CANCELLED}) for s in waiting.steps],
    )


def most_at_once(calls: list[Any]) -> int:
    """The most calls the stub had open at one time."""
    edges = sorted(
        [(c.started_mono, 1) for c in calls] + [(c.finished_mono, -1) for c in calls],
        key=lambda edge: (edge[0], edge[1]),
    )
    open_now = peak = 0
    for _, change in edges:
        open_now += change
        peak = max(peak, open_now)
    return peak


# make test maps 200 items (two chunks of the default 100); make fuzz, the soak, 500.
MAP_ITEMS = int(os.environ.get("KASAL_MAP_ITEMS", "200"))


async def test_a_large_map_keeps_parallelism_bounded_and_histories_small(
    client: Client, worker: Worker, stub_llm: StubLLM, blob_store: BlobStore
) -> None:
    items = [f"item-{i}" for i in range(MAP_ITEMS)]
    # One item's output is itself too large to travel: it is stored, and joined whole.
    long_answer = "long " * 400
    stub_llm.script("ITEM=item-7.", Reply(long_answer))
    stub_llm.script("ITEM=", Reply("done"))
    definition = {
        "inputs": [{"name": "items"}],
        "agents": [agent()],
        "steps": [
            {
                "id": "each",
                "type": "map",
                "items": "items",
                "max_parallel": 25,
                "steps": [task("work", description="Work on ITEM={item}.")],
            }
        ],
    }
    handle = await start_run(client, worker, definition, {"items": json.dumps(items)})
    result = await handle.result()

    [each] = result.steps
    assert each.status == StepStatus.COMPLETED
    # The results are kept by reference: the step holds a preview, the blob the list.
    assert each.output_ref is not None and len(each.output or "") <= 1001
    whole = await blob_store.get_many([each.output_ref])
    expected = ["done"] * MAP_ITEMS
    expected[7] = long_answer.strip()
    assert [o.strip() for o in json.loads(whole[each.output_ref])] == expected
    calls = stub_llm.calls("ITEM=") + stub_llm.calls("ITEM=item-7.")
    assert len(calls) == MAP_ITEMS
    assert most_at_once(calls) <= 25
    # Chunks of 100 items, each its own child run: no history holds them all, and the
    # parent's carries batch ids, never the results.
    assert len(each.child_run_ids) == -(-MAP_ITEMS // 100)
    parent_events = [e async for e in handle.fetch_history_events()]
    assert len(parent_events) < 150
    for child_id in each.child_run_ids:
        child_events = [
            e async for e in client.get_workflow_handle(child_id).fetch_history_events()
        ]
        assert len(child_events) < 1500
    await assert_the_fold_agrees(client, handle.id, result.steps)
