"""Budgets that pause, never overspend (issue 13): a step stops before the LLM call that
would cross its run's budget, an operator raises it and retries, and nothing is paid twice."""

from __future__ import annotations

import asyncio
from typing import Any

import litellm

from tests.api_stack import ApiStack
from tests.conftest import STEPS_PAST_CONTINUE_AS_NEW
from tests.helpers import agent, continued_as_new, eventually, marker, task
from tests.stub_llm import Call, Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.test_costs import PRICES
from tests.test_output_schema import LABEL

MAX_COMPLETION = 16
# 200 steps once made 996 events, and the run never continued as new.
QUICK_STEPS = STEPS_PAST_CONTINUE_AS_NEW


async def budgeted_model(
    api: ApiStack, stub_llm: StubLLM, name: str, max_tokens: int = MAX_COMPLETION
) -> None:
    response = await api.http.post(
        "/models",
        json={
            "name": name,
            "model": "openai/stub-model",
            "api_base": stub_llm.url,
            "max_tokens": max_tokens,
            "prices": PRICES,
        },
    )
    assert response.status_code == 201, response.text


def worst_case_tokens(call: Call) -> int:
    """The estimate the step makes before a call (activities/budget_guard.py)."""
    prompt = litellm.token_counter(model="openai/stub-model", messages=call.body["messages"])
    return int(prompt) + MAX_COMPLETION


async def test_a_step_stops_before_a_call_over_the_budget_and_runs_after_a_raise(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    await budgeted_model(api, stub_llm, "metered")
    stub_llm.script(marker("a"), Reply("an answer"))
    spec = {"agents": [agent(llm="metered")], "steps": [task("a")]}
    workflow_id = await create_workflow(api, spec, name="metered")
    run_id = (await start(api, workflow_id, budget={"max_cost_usd": 0.000001}))["run_id"]

    run = await wait_for_run(api, run_id, "needs_attention")
    [step] = run["steps"]
    assert (step["status"], step["pause_reason"]) == ("paused", "budget")
    assert stub_llm.call_count(marker("a")) == 0  # stopped before calling

    raised = await api.http.post(f"/runs/{run_id}/budget", json={"max_cost_usd": 1.0})
    assert raised.status_code == 200, raised.text
    assert raised.json() == {"max_cost_usd": 1.0, "max_tokens": None}
    retried = await api.http.post(f"/runs/{run_id}/steps/a/retry")
    assert retried.status_code == 200, retried.text
    run = await wait_for_run(api, run_id, "completed")
    assert run["cost_micros"] > 0 and stub_llm.call_count(marker("a")) == 1


async def test_a_retry_after_a_budget_pause_replays_what_was_paid_and_never_overspends(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """A step of two calls (an answer, then its repair) gets a token budget that holds the
    first call's worst case, but not the first call's use plus the second's worst case."""
    await budgeted_model(api, stub_llm, "metered")
    replies = (Reply('{"label": "bug"}'), Reply('{"label": "bug", "confidence": 0.5}'))
    spec = {
        "agents": [agent(llm="metered")],
        "steps": [task("classify", output_schema=LABEL)],
    }
    workflow_id = await create_workflow(api, spec, name="classify")

    # Unbudgeted, to learn what each call asks: the budgeted run asks the same.
    stub_llm.script(marker("classify"), *replies)
    run_id = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, run_id, "completed")
    first, second = stub_llm.calls(marker("classify"))
    budget = worst_case_tokens(first)
    assert (
        first.usage is not None and first.usage["total_tokens"] + worst_case_tokens(second) > budget
    )
    stub_llm.reset()

    stub_llm.script(marker("classify"), *replies)
    run_id = (await start(api, workflow_id, budget={"max_tokens": budget}))["run_id"]
    run = await wait_for_run(api, run_id, "needs_attention")
    [step] = run["steps"]
    assert (step["status"], step["pause_reason"]) == ("paused", "budget")
    assert stub_llm.call_count(marker("classify")) == 1  # the repair was never sent
    # What was spent is counted, and within the budget: no overshoot at all here.
    assert step["usage"]["llm_calls"] == 1
    assert run["usage"]["total_tokens"] <= budget

    raised = await api.http.post(f"/runs/{run_id}/budget", json={"max_tokens": budget * 10})
    assert raised.status_code == 200, raised.text
    assert (await api.http.post(f"/runs/{run_id}/steps/classify/retry")).status_code == 200
    run = await wait_for_run(api, run_id, "completed")

    # The answer was replayed from the journal, not asked again: one call each, each
    # counted once in the step's usage.
    calls = stub_llm.calls(marker("classify"))
    assert len(calls) == 2
    [step] = run["steps"]
    assert step["usage"]["llm_calls"] == 2
    assert step["usage"]["total_tokens"] == sum(c.usage["total_tokens"] for c in calls)  # type: ignore[index]


async def test_a_cost_budget_on_a_model_without_a_price_is_refused(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    response = await api.http.post(
        "/models",
        json={
            "name": "unpriced",
            "model": "openai/unknown-model",
            "api_base": "https://llm.example",
        },
    )
    assert response.status_code == 201, response.text
    spec = {"agents": [agent(llm="unpriced")], "steps": [task("a")]}
    workflow_id = await create_workflow(api, spec, name="unpriced")

    refused = await api.http.post(
        f"/workflows/{workflow_id}/runs", json={"budget": {"max_cost_usd": 5}}
    )
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["detail"]
    assert problem["loc"] == ["body", "budget", "max_cost_usd"]
    assert "unpriced" in problem["msg"]
    # A token budget needs no price.
    accepted = await api.http.post(
        f"/workflows/{workflow_id}/runs", json={"budget": {"max_tokens": 1000}}
    )
    assert accepted.status_code == 201, accepted.text


async def test_a_workspaces_monthly_cap_pauses_a_run_before_a_call_that_would_cross_it(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    await budgeted_model(api, stub_llm, "metered")
    stub_llm.script(marker("a"), Reply("an answer"))
    spec = {"agents": [agent(llm="metered")], "steps": [task("a")]}
    workflow_id = await create_workflow(api, spec, name="capped")
    capped = await api.http.put("/budget", json={"max_cost_usd_per_month": 0.000001})
    assert capped.status_code == 200, capped.text
    assert capped.json()["max_cost_usd_per_month"] == 0.000001

    run_id = (await start(api, workflow_id))["run_id"]
    run = await wait_for_run(api, run_id, "needs_attention")
    [step] = run["steps"]
    assert (step["status"], step["pause_reason"]) == ("paused", "budget")
    assert "monthly budget" in step["error"]
    assert stub_llm.call_count(marker("a")) == 0

    before = (await api.http.get("/budget")).json()["spent_this_month_micros"]
    assert (await api.http.put("/budget", json={"max_cost_usd_per_month": 1000})).status_code == 200
    assert (await api.http.post(f"/runs/{run_id}/steps/a/retry")).status_code == 200
    run = await wait_for_run(api, run_id, "completed")
    spent = (await api.http.get("/budget")).json()
    assert spent["spent_this_month_micros"] == before + run["cost_micros"] > before
    assert (await api.http.put("/budget", json={"max_cost_usd_per_month": None})).status_code == 200
    refused = await api.http.put("/budget", json={"max_cost_usd_per_month": -1})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "max_cost_usd_per_month"]


async def test_two_operators_raising_and_retrying_a_budget_pause_at_once_pay_once(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """One raises the cost limit while another sets a token limit, then both retry: each
    raise changes only the limit it names, one retry wins, and the step calls once."""
    await budgeted_model(api, stub_llm, "metered")
    stub_llm.script(marker("a"), Reply("an answer", delay=0.5))
    spec = {"agents": [agent(llm="metered")], "steps": [task("a")]}
    workflow_id = await create_workflow(api, spec, name="metered-twice")
    run_id = (await start(api, workflow_id, budget={"max_cost_usd": 0.000001}))["run_id"]
    await wait_for_run(api, run_id, "needs_attention")

    cost, tokens = await asyncio.gather(
        api.http.post(f"/runs/{run_id}/budget", json={"max_cost_usd": 1.0}),
        api.http.post(f"/runs/{run_id}/budget", json={"max_tokens": 1_000_000}),
    )
    assert cost.status_code == tokens.status_code == 200, (cost.text, tokens.text)
    both = {"max_cost_usd": 1.0, "max_tokens": 1_000_000}
    # The update applied second answers with both limits; the first with its own.
    assert both in (cost.json(), tokens.json())
    assert cost.json()["max_cost_usd"] == 1.0 and tokens.json()["max_tokens"] == 1_000_000

    retries = await asyncio.gather(
        *(api.http.post(f"/runs/{run_id}/steps/a/retry", json={"actor": a}) for a in "AB")
    )
    assert sorted(r.status_code for r in retries) == [200, 409], [r.text for r in retries]
    run = await wait_for_run(api, run_id, "completed")
    assert stub_llm.call_count(marker("a")) == 1
    assert 0 < run["cost_micros"] <= 1_000_000


async def test_a_budget_pause_outlives_continue_as_new_and_a_raise_then_retry_pays_once(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """One step's worst case crosses the run's token budget and pauses at once; the run's
    other steps go on, until its history is long enough to continue as new. The pause,
    and what the other steps spent, are carried into the new execution: the raise and the
    retry land there, and every step's model was asked once."""
    await budgeted_model(api, stub_llm, "metered")
    await budgeted_model(api, stub_llm, "verbose", max_tokens=2_000_000)
    quick = [task(f"q{i}", agent="counter") for i in range(QUICK_STEPS)]
    spec = {
        "agents": [agent("counter", llm="metered"), agent("writer", llm="verbose")],
        "steps": [task("essay"), *quick],
        "max_parallel": 32,
    }
    workflow_id = await create_workflow(api, spec, name="budget-across-executions")
    stub_llm.script(marker("essay"), Reply("an essay"))
    stub_llm.script("STEP-Q", Reply("done"))
    budget = 1_000_000  # the quick steps' worst cases fit; the essay's two million do not
    run_id = (await start(api, workflow_id, budget={"max_tokens": budget}))["run_id"]

    async def read() -> dict[str, Any]:
        return dict((await api.http.get(f"/runs/{run_id}")).json())

    def settled(run: dict[str, Any]) -> bool:  # the essay paused, the rest all done
        return [s["status"] for s in run["steps"]].count("completed") == QUICK_STEPS

    run = await eventually(read, settled, timeout=180)
    assert run["status"] == "needs_attention"
    by_id = {step["id"]: step for step in run["steps"]}
    assert (by_id["essay"]["status"], by_id["essay"]["pause_reason"]) == ("paused", "budget")
    assert {by_id[q["id"]]["status"] for q in quick} == {"completed"}
    assert stub_llm.call_count(marker("essay")) == 0
    await continued_as_new(api.env.client, run_id)
    spent = run["usage"]["total_tokens"]
    assert 0 < spent <= budget

    raised = await api.http.post(f"/runs/{run_id}/budget", json={"max_tokens": 10_000_000})
    assert raised.status_code == 200, raised.text
    assert (await api.http.post(f"/runs/{run_id}/steps/essay/retry")).status_code == 200
    run = await wait_for_run(api, run_id, "completed", timeout=60)
    assert stub_llm.call_count(marker("essay")) == 1
    retried = [(s["id"], s["attempt"]) for s in run["steps"] if s["attempt"] > 1]
    assert stub_llm.call_count("STEP-Q") == QUICK_STEPS, retried  # nothing asked twice
    # The usage of the steps done before continuing as new still counts.
    assert run["usage"]["total_tokens"] > spent
