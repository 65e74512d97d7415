"""GET /healthz names the part that is down; a request a busy or missing part cannot
serve answers 503 with Retry-After, and sent again, it does what it asked once."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api_stack import ApiServer, ApiStack, free_port
from tests.stub_llm import StubLLM
from tests.test_api_runs import create_workflow, wait_for_run


async def healthz(server: ApiServer) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.get("/healthz")


async def test_healthy_when_database_temporal_and_a_worker_answer(api: ApiStack) -> None:
    response = await healthz(api.server)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok", "worker": "ok"}


async def test_503_names_a_missing_worker(api: ApiStack) -> None:
    await api.stop_worker()
    settings = api.settings.model_copy(update={"KASAL_TASK_QUEUE": "nobody-polls-this"})
    server = ApiServer(settings.model_copy(update={"KASAL_PORT": free_port()}))
    await server.start()
    try:
        response = await healthz(server)
    finally:
        await server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["temporal"] == "ok"
    assert "nobody-polls-this" in body["worker"]


async def test_503_names_an_unreachable_temporal(api: ApiStack) -> None:
    settings = api.settings.model_copy(
        update={"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}", "KASAL_PORT": free_port()}
    )
    server = ApiServer(settings)
    await server.start()
    try:
        response = await healthz(server)
        async with httpx.AsyncClient(base_url=server.url, headers=api.http.headers) as http:
            runs = await http.get("/api/v1/runs")
    finally:
        await server.stop()
    assert response.status_code == 503
    assert response.json()["temporal"].startswith("unavailable")
    assert response.json()["database"] == "ok"
    assert runs.status_code == 503
    assert "Temporal is not reachable" in runs.json()["detail"]


async def hold_every_connection(engine: AsyncEngine, held: AsyncExitStack) -> int:
    """Check out connections until the pool has none left to give; how many it gave."""
    taken = 0
    while True:
        try:
            await held.enter_async_context(engine.connect())
        except PoolTimeout:
            return taken
        taken += 1


async def test_a_launch_no_database_connection_serves_is_503_and_sent_again_starts_once(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """An API whose pooled connections all stay busy (launches under overload) sheds the
    request with 503 and Retry-After, not a 500, and starts nothing; the client sends it
    again with its Idempotency-Key and gets one run."""
    settings = api.settings.model_copy(
        update={"KASAL_PORT": free_port(), "KASAL_DATABASE_POOL_TIMEOUT_SECONDS": 0.5}
    )
    server = ApiServer(settings)
    await server.start()
    workflow_id = await create_workflow(api)
    launch = (f"/workflows/{workflow_id}/runs", {"inputs": {"topic": "cats"}})
    headers = {**api.http.headers, "Idempotency-Key": "launch-under-load"}
    try:
        async with httpx.AsyncClient(
            base_url=f"{server.url}/api/v1", timeout=30, headers=headers
        ) as http:
            async with AsyncExitStack() as held:
                assert await hold_every_connection(server.app.state.engine, held) > 0
                shed = await http.post(launch[0], json=launch[1])
            assert shed.status_code == 503, shed.text
            assert shed.headers["Retry-After"] == "2"
            assert "database is busy" in shed.json()["detail"]
            first = await http.post(launch[0], json=launch[1])
            again = await http.post(launch[0], json=launch[1])
    finally:
        await server.stop()
    assert (first.status_code, again.status_code) == (201, 201), first.text
    assert first.json()["run_id"] == again.json()["run_id"]
    await wait_for_run(api, first.json()["run_id"], "completed")
    assert stub_llm.call_count() == 2  # the definition's two steps, once


async def test_a_launch_temporal_refuses_is_503_with_retry_after(api: ApiStack) -> None:
    """Temporal's own refusal of a start (here: a namespace it does not have, as an
    overloaded or misconfigured frontend answers) is a 503 the client may retry."""
    settings = api.settings.model_copy(
        update={"KASAL_PORT": free_port(), "TEMPORAL_NAMESPACE": "no-such-namespace"}
    )
    server = ApiServer(settings)
    await server.start()
    workflow_id = await create_workflow(api)
    try:
        async with httpx.AsyncClient(
            base_url=f"{server.url}/api/v1", timeout=30, headers=api.http.headers
        ) as http:
            body = {"inputs": {"topic": "cats"}}
            refused = await http.post(f"/workflows/{workflow_id}/runs", json=body)
    finally:
        await server.stop()
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "2"
    assert refused.json()["detail"].startswith("Temporal did not start the run")
