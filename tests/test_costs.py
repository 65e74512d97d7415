"""Tokens and cost per call, step and run (issue 13): priced by the model config, summed to
the micro-dollar, shown by the API and findable by the KasalCostMicros search attribute."""

from __future__ import annotations

from typing import Any

import litellm
import pytest

from tests.api_stack import ApiStack
from tests.helpers import agent, eventually, marker, task
from tests.stub_llm import Call, Reply, StubLLM
from tests.test_api_runs import start, wait_for_run

PRICES = {"input_per_mtok": 3.0, "output_per_mtok": 15.0, "cached_per_mtok": 0.3}


def expected_micros(calls: list[Call]) -> int:
    """The stub's reported usage times the configured prices, rounded once per call."""
    total = 0
    for call in calls:
        assert call.usage is not None
        cached = call.usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
        total += round(
            (call.usage["prompt_tokens"] - cached) * PRICES["input_per_mtok"]
            + cached * PRICES["cached_per_mtok"]
            + call.usage["completion_tokens"] * PRICES["output_per_mtok"]
        )
    return total


async def priced_model(api: ApiStack, stub_llm: StubLLM, name: str = "priced") -> None:
    response = await api.http.post(
        "/models",
        json={
            "name": name,
            "model": "openai/stub-model",
            "api_base": stub_llm.url,
            "prices": PRICES,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["prices"] == PRICES


async def test_a_runs_cost_is_the_sum_of_its_calls_at_the_configured_prices(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    await priced_model(api, stub_llm)
    stub_llm.script(marker("a"), Reply("word " * 40, cached_tokens=7))
    stub_llm.script(marker("b"), Reply("the brief " * 25))
    spec: dict[str, Any] = {
        "agents": [agent(llm="priced")],
        "steps": [task("a"), task("b", after=["a"])],
    }
    created = await api.http.post("/workflows", json={"name": "priced", "spec": spec})
    assert created.status_code == 201, created.text
    run_id = (await start(api, created.json()["id"]))["run_id"]
    run = await wait_for_run(api, run_id, "completed")

    steps = {step["id"]: step for step in run["steps"]}
    for step_id in ("a", "b"):
        calls = stub_llm.calls(marker(step_id))
        step = steps[step_id]
        assert step["cost_micros"] == expected_micros(calls) > 0, step["usage"]
        assert step["cost_usd"] == step["cost_micros"] / 1_000_000
        assert step["usage"]["prompt_tokens"] == sum(c.usage["prompt_tokens"] for c in calls)  # type: ignore[index]
        assert step["usage"]["llm_calls"] == len(calls)
    assert steps["a"]["usage"]["cached_tokens"] == 7
    assert steps["b"]["usage"]["cached_tokens"] == 0
    total = steps["a"]["cost_micros"] + steps["b"]["cost_micros"]
    assert run["cost_micros"] == total
    usage = run["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cached_tokens"] == 7

    # Temporal finds the run by its cost, as `temporal workflow list --query` would.
    # Visibility is eventually consistent, so the search attribute may show a moment late.
    client = api.env.client
    query = f"WorkflowId = '{run_id}' AND KasalCostMicros = {total}"

    async def found() -> list[str]:
        return [e.id async for e in client.list_workflows(query)]

    await eventually(found, lambda ids: ids == [run_id])
    [listed] = [r for r in (await api.http.get("/runs")).json()["items"] if r["run_id"] == run_id]
    assert (listed["cost_micros"], listed["cost_usd"]) == (total, total / 1_000_000)


async def test_a_model_on_this_machine_without_prices_costs_nothing(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    stub_llm.script(marker("a"), Reply("free words"))
    spec: dict[str, Any] = {"agents": [agent()], "steps": [task("a")]}
    created = await api.http.post("/workflows", json={"name": "free", "spec": spec})
    run_id = (await start(api, created.json()["id"]))["run_id"]
    run = await wait_for_run(api, run_id, "completed")

    [step] = run["steps"]
    assert step["usage"]["completion_tokens"] > 0
    assert (step["cost_micros"], run["cost_micros"], run["cost_usd"]) == (0, 0, 0)


async def test_litellm_is_told_the_configs_prices(
    api: ApiStack, stub_llm: StubLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """litellm prices every reply itself; given the config's input and output prices per
    token, it need not look the model up in its price map. Kasal's cost is its own."""
    await priced_model(api, stub_llm)
    stub_llm.script(marker("told"), Reply("the brief " * 25))
    spec: dict[str, Any] = {"agents": [agent(llm="priced")], "steps": [task("told")]}
    created = await api.http.post("/workflows", json={"name": "told", "spec": spec})
    assert created.status_code == 201, created.text
    told: list[tuple[float, float]] = []
    acompletion = litellm.acompletion

    async def recording_acompletion(**params: Any) -> Any:
        told.append((params["input_cost_per_token"], params["output_cost_per_token"]))
        return await acompletion(**params)

    monkeypatch.setattr(litellm, "acompletion", recording_acompletion)
    run_id = (await start(api, created.json()["id"]))["run_id"]
    await wait_for_run(api, run_id, "completed")
    per_token = (PRICES["input_per_mtok"] / 1_000_000, PRICES["output_per_mtok"] / 1_000_000)
    assert told == [per_token]
