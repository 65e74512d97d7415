"""Large outputs travel by reference: the history stays small and the API returns them whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api_stack import ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run

MB = 1024 * 1024


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def text_of(size: int, seed: str) -> str:
    line = f"{seed} " * 10 + "\n"
    return (line * (size // len(line) + 1))[:size]


async def test_a_5_mb_output_works_end_to_end(api: ApiStack, stub_llm: StubLLM) -> None:
    big = text_of(5 * MB, "alpha")
    stub_llm.script(marker("a"), Reply(big))
    stub_llm.script(marker("b"), Reply("summary of the big one"))
    spec = {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    run = await wait_for_run(api, run_id, "completed")

    assert run["steps"][0]["output"] == big
    assert run["result"]["outputs"]["a"] == big
    # b received the whole output as context, fetched by the activity from the store.
    assert big[-1000:] in stub_llm.calls(marker("b"))[0].messages_text
    history = (await api.env.client.get_workflow_handle(run_id).fetch_history()).to_json()
    assert len(history) < MB


async def test_ten_300_kb_outputs_in_parallel(api: ApiStack, stub_llm: StubLLM) -> None:
    outputs = {f"s{i}": text_of(300 * 1024, f"step{i}") for i in range(10)}
    for step_id, output in outputs.items():
        stub_llm.script(marker(step_id), Reply(output))
    spec = {"agents": [agent()], "steps": [task(step_id) for step_id in outputs]}
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    run = await wait_for_run(api, run_id, "completed")

    assert {s["id"]: s["output"] for s in run["steps"]} == outputs
    assert run["result"]["final_output"] == "\n\n".join(outputs.values())
    history = (await api.env.client.get_workflow_handle(run_id).fetch_history()).to_json()
    assert len(history) < MB


async def test_a_200_way_join_of_15_kb_outputs_completes_and_reads_back(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """200 outputs just under the old 16 KB claim-check line, joined by one step: once
    about 3 MB of state, query, result and join input; now previews and references."""
    branches = [f"b{i:03d}" for i in range(200)]
    for step_id in branches:
        stub_llm.script(marker(step_id), Reply(text_of(15 * 1024, step_id)))
    stub_llm.script(marker("join"), Reply("joined"))
    spec = {
        "agents": [agent()],
        "steps": [*(task(s) for s in branches), task("join", after=branches)],
        "max_parallel": 50,
    }
    run_id = (await start(api, await create_workflow(api, spec)))["run_id"]
    run = await wait_for_run(api, run_id, "completed", timeout=180)

    steps = {s["id"]: s["output"] for s in run["steps"]}
    assert all(steps[s] == text_of(15 * 1024, s) for s in branches)
    assert steps["join"] == "joined"
    # The join's request carried every branch's whole output, fetched by reference.
    [join_call] = stub_llm.calls(marker("join"))
    assert all(text_of(15 * 1024, s)[-200:] in join_call.messages_text for s in branches)
    history = (await api.env.client.get_workflow_handle(run_id).fetch_history()).to_json()
    assert len(history) < 2 * MB
