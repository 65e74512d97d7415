"""The usage page's numbers (issue 13): GET /usage sums the LLM calls really made, by day,
by workflow and by model, to the same totals the runs show, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api_stack import ApiStack, issue_token
from tests.helpers import agent, fast_retry, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import start, wait_for_run
from tests.test_costs import priced_model
from workflows.roles import Role


async def _run(api: ApiStack, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    created = await api.http.post("/workflows", json={"name": name, "spec": spec})
    assert created.status_code == 201, created.text
    run_id = (await start(api, created.json()["id"]))["run_id"]
    run = await wait_for_run(api, run_id, "completed")
    run["workflow_id"] = created.json()["id"]
    return run


async def _usage(api: ApiStack, **params: str) -> dict[str, Any]:
    response = await api.http.get("/usage", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_usage_by_day_workflow_and_model_sums_to_the_runs_costs(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    await priced_model(api, stub_llm, "priced")
    await priced_model(api, stub_llm, "dearer")
    stub_llm.script(marker("a"), Reply("word " * 40, cached_tokens=5))
    stub_llm.script(marker("b"), Reply("the brief " * 25))
    stub_llm.script(marker("c"), Reply("other words " * 10))
    two_models = {
        "agents": [agent("cheap", llm="priced"), agent("dear", llm="dearer")],
        "steps": [task("a", agent="cheap"), task("b", after=["a"], agent="dear")],
    }
    alpha = await _run(api, "alpha", two_models)
    beta = await _run(api, "beta", {"agents": [agent(llm="priced")], "steps": [task("c")]})
    steps = {s["id"]: s for run in (alpha, beta) for s in run["steps"]}
    assert all(steps[s]["cost_micros"] > 0 for s in "abc")

    by_workflow = await _usage(api, group_by="workflow")
    assert {(i["key"], i["name"], i["cost_micros"]) for i in by_workflow["items"]} == {
        (alpha["workflow_id"], "alpha", alpha["cost_micros"]),
        (beta["workflow_id"], "beta", beta["cost_micros"]),
    }
    [alpha_row] = [i for i in by_workflow["items"] if i["name"] == "alpha"]
    assert {k: alpha_row[k] for k in alpha["usage"]} == alpha["usage"]

    by_model = await _usage(api, group_by="model")
    assert {i["key"]: i["cost_micros"] for i in by_model["items"]} == {
        "priced": steps["a"]["cost_micros"] + steps["c"]["cost_micros"],
        "dearer": steps["b"]["cost_micros"],
    }
    [priced] = [i for i in by_model["items"] if i["key"] == "priced"]
    assert priced["cached_tokens"] == 5
    assert priced["cost_usd"] == priced["cost_micros"] / 1_000_000

    # By default the last 30 days, every one of them, today's holding every call.
    by_day = await _usage(api)
    today = datetime.now(UTC).date()
    assert by_day["group_by"] == "day"
    assert (by_day["from"], by_day["to"]) == (str(today - timedelta(days=29)), str(today))
    assert [i["key"] for i in by_day["items"]][-1] == str(today)
    assert len(by_day["items"]) == 30
    total = alpha["cost_micros"] + beta["cost_micros"]
    assert by_day["items"][-1]["cost_micros"] == by_day["total"]["cost_micros"] == total
    calls = alpha["usage"]["llm_calls"] + beta["usage"]["llm_calls"]
    assert by_day["total"]["llm_calls"] == calls
    for report in (by_workflow, by_model):
        assert report["total"]["cost_micros"] == total

    # A span that ended yesterday holds none of today's calls.
    yesterday = str(today - timedelta(days=1))
    before = await _usage(api, to=yesterday, group_by="workflow")
    assert (before["items"], before["total"]["cost_micros"]) == ([], 0)

    # Another workspace sees none of this workspace's usage.
    token = await issue_token(api.settings, "other@usage.test", Role.VIEWER)
    async with api.client_as(token) as in_default:
        workspaces = (await in_default.get("/me")).json()["workspaces"]
    personal = next(w["id"] for w in workspaces if w["personal"])
    async with api.client_as(token, workspace=personal) as elsewhere:
        theirs = (await elsewhere.get("/usage", params={"group_by": "model"})).json()
    assert (theirs["items"], theirs["total"]["cost_micros"]) == ([], 0)


async def test_a_call_replayed_by_a_retry_is_counted_once(api: ApiStack, stub_llm: StubLLM) -> None:
    await priced_model(api, stub_llm, "priced")
    stub_llm.script(
        marker("a"),
        Reply('{"label": "bug"}'),
        Reply.error(500, "the model's server fell over"),  # the repair call, attempt 1
        Reply('{"label": "bug", "confidence": 0.5}'),
    )
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["label", "confidence"],
    }
    step = task("a", output_schema=schema, retry=fast_retry(max_attempts=2))
    run = await _run(api, "retried", {"agents": [agent(llm="priced")], "steps": [step]})

    # Attempt 2 replayed the answer attempt 1 paid for, and made the repair: two calls
    # paid, one failed, and the usage page counts what the run counts.
    assert stub_llm.call_count(marker("a")) == 3
    assert run["steps"][0]["attempt"] == 2
    [row] = (await _usage(api, group_by="workflow"))["items"]
    assert (row["llm_calls"], row["cost_micros"]) == (2, run["cost_micros"])
    assert row["total_tokens"] == run["usage"]["total_tokens"]


async def test_usage_as_csv_has_a_header_row_and_the_same_rows(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    await priced_model(api, stub_llm, "priced")
    stub_llm.script(marker("a"), Reply("a few words"))
    run = await _run(api, "=SUM(A1)", {"agents": [agent(llm="priced")], "steps": [task("a")]})

    response = await api.http.get("/usage", params={"group_by": "workflow", "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "key",
        "name",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "total_tokens",
        "llm_calls",
        "cost_micros",
        "cost_usd",
    ]
    [row] = rows
    # A spreadsheet would run a name that starts like a formula: it is quoted.
    assert (row["key"], row["name"]) == (run["workflow_id"], "'=SUM(A1)")
    assert int(row["cost_micros"]) == run["cost_micros"] > 0
    assert float(row["cost_usd"]) == run["cost_usd"]


async def test_usage_refuses_an_unknown_grouping_and_a_backwards_span(api: ApiStack) -> None:
    response = await api.http.get("/usage", params={"group_by": "week"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "group_by"]

    response = await api.http.get("/usage", params={"to": "0"})  # not read as a timestamp
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "to"]

    today = datetime.now(UTC).date()
    backwards = {"from": str(today), "to": str(today - timedelta(days=1))}
    response = await api.http.get("/usage", params=backwards)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "to"]
