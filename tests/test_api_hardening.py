"""The app's locks: a Host allowlist against DNS rebinding, a request body limit, size
limits on what people write, security headers, and the egress policy on saved URLs."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.limits import MAX_DEFINITION_STEPS, MAX_RUN_INPUTS_BYTES, MAX_SKIP_OUTPUT_BYTES
from tests.api_stack import ApiStack
from tests.helpers import agent, task
from tests.test_api_runs import create_workflow

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def locs(response: httpx.Response) -> list[list[object]]:
    assert response.status_code == 422, response.text
    return [item["loc"] for item in response.json()["detail"]]


async def test_a_foreign_host_is_refused_and_local_ones_pass(api: ApiStack) -> None:
    evil = await api.http.get("/models", headers={"Host": "evil.example"})
    assert evil.status_code == 400
    assert "KASAL_ALLOWED_HOSTS" in evil.json()["detail"]
    for host in ("127.0.0.1", f"127.0.0.1:{api.settings.KASAL_PORT}", "localhost:1", "[::1]"):
        ok = await api.http.get("/models", headers={"Host": host})
        assert ok.status_code == 200, host
    origin = f"http://127.0.0.1:{api.settings.KASAL_PORT}"
    async with httpx.AsyncClient(base_url=origin) as http:
        # Probes reach the health check by whatever address they have.
        assert (await http.get("/healthz", headers={"Host": "10.1.2.3"})).status_code != 400
    await api.restart_api_with(KASAL_ALLOWED_HOSTS="kasal.example.com")
    assert (await api.http.get("/models")).status_code == 400
    named = await api.http.get("/models", headers={"Host": "kasal.example.com"})
    assert named.status_code == 200


async def test_every_answer_carries_the_security_headers(api: ApiStack) -> None:
    origin = f"http://127.0.0.1:{api.settings.KASAL_PORT}"
    async with httpx.AsyncClient(base_url=origin) as http:
        # An answer, an error and the built app's page alike.
        for path in ("/api/v1/models", "/api/v1/nothing-here", "/healthz", "/"):
            response = await http.get(path)
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in _scripts(csp), path
            assert "frame-ancestors 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "same-origin"
            assert response.headers["x-frame-options"] == "DENY"
        # Swagger UI's one inline script is allowed by its hash, nothing else inline.
        docs = await http.get("/docs")
        assert docs.status_code == 200
        assert re.search(r"script-src [^;]*'sha256-", docs.headers["content-security-policy"])
        assert "unsafe-inline" not in _scripts(docs.headers["content-security-policy"])


def _scripts(csp: str) -> str:
    return next(part for part in csp.split(";") if part.strip().startswith("script-src"))


async def test_a_body_over_the_limit_answers_413_declared_or_chunked(api: ApiStack) -> None:
    await api.restart_api_with(KASAL_MAX_REQUEST_BYTES=64 * 1024)
    big = {"name": "big", "spec": {"steps": [task("a", description="d" * 100_000)]}}
    declared = await api.http.post("/workflows", json=big)
    assert declared.status_code == 413
    assert "KASAL_MAX_REQUEST_BYTES" in declared.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:
        data = json.dumps(big).encode()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]

    chunked = await api.http.post(
        "/workflows", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    # Under the limit, chunked or not, the body reaches the route whole.
    small = {"name": "small", "spec": {"agents": [agent()], "steps": [task("a")]}}
    data = json.dumps(small).encode()

    async def one_chunk() -> AsyncIterator[bytes]:
        yield data

    created = await api.http.post(
        "/workflows", content=one_chunk(), headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.text


async def test_definitions_inputs_and_skip_outputs_have_limits(api: ApiStack) -> None:
    many = {"agents": [agent()], "steps": [task(f"s{i}") for i in range(MAX_DEFINITION_STEPS + 1)]}
    response = await api.http.post("/workflows", json={"name": "many", "spec": many})
    assert locs(response) == [["steps"]]
    long = {"agents": [agent()], "steps": [task("a", description="d" * 300_000)]}
    response = await api.http.post("/workflows", json={"name": "long", "spec": long})
    assert locs(response) == [["steps", 0, "description"]]

    workflow_id = await create_workflow(api, {"agents": [agent()], "steps": [task("a")]})
    inputs = {"topic": "x" * MAX_RUN_INPUTS_BYTES}
    response = await api.http.post(f"/workflows/{workflow_id}/runs", json={"inputs": inputs})
    assert locs(response) == [["body", "inputs"]]
    skip = {"output": "x" * (MAX_SKIP_OUTPUT_BYTES + 1)}
    response = await api.http.post("/runs/some-run/steps/a/skip", json=skip)
    assert locs(response) == [["body", "output"]]


async def test_saved_urls_pass_the_egress_policy(api: ApiStack) -> None:
    model = {"name": "m", "model": "openai/x", "api_base": METADATA}
    assert locs(await api.http.post("/models", json=model)) == [["body", "api_base"]]
    smuggled = {"name": "m", "model": "openai/x", "params": {"api_base": METADATA, "top_p": 1}}
    assert locs(await api.http.post("/models", json=smuggled)) == [["body", "params", "api_base"]]
    for name in ("base_url", "api_key", "custom_llm_provider"):
        update = await api.http.put("/models/stub", json={"params": {name: "x"}})
        assert locs(update) == [["body", "params", name]]

    tool = {
        "name": "meta",
        "kind": "http",
        "description": "d",
        "method": "GET",
        "url_template": "http://[fd00:ec2::254]/{path}",
        "args_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    }
    assert locs(await api.http.post("/tools", json=tool)) == [["body", "url_template"]]
    mcp = {"name": "m", "transport": "streamable-http", "url": "http://metadata.google.internal/"}
    assert locs(await api.http.post("/mcp-servers", json=mcp)) == [["body", "url"]]
    spec = {"agents": [agent()], "steps": [task("a")], "notify": {"webhook_url": METADATA}}
    response = await api.http.post("/workflows", json={"name": "w", "spec": spec})
    assert locs(response) == [["notify", "webhook_url"]]

    # Loopback is allowed by default (local models) and refused once denied.
    local = {"name": "local2", "model": "openai/x", "api_base": "http://127.0.0.1:9/v1"}
    assert (await api.http.post("/models", json=local)).status_code == 201
    await api.restart_api_with(KASAL_EGRESS_DENY="127.0.0.0/8")
    refused = await api.http.put("/models/local2", json={"api_base": "http://127.0.0.1:9/v1"})
    assert locs(refused) == [["body", "api_base"]]
