"""GET /healthz names the part that is down."""

from __future__ import annotations

import httpx

from tests.api_stack import ApiServer, ApiStack, free_port


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
