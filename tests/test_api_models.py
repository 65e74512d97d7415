"""Model configs over HTTP: the API key is write-only and encrypted at rest."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, text

from db.base import utcnow
from db.models import ModelConfigRow
from db.session import create_engine
from tests.api_stack import ApiStack

KEY = "sk-live-models-test-7d1e44"


async def test_key_is_write_only_kept_on_omission_and_cleared_by_null(api: ApiStack) -> None:
    body = {"name": "openai", "model": "openai/gpt-4o-mini", "api_key": KEY, "temperature": 0.3}
    created = await api.http.post("/models", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["has_api_key"] is True
    assert KEY not in created.text

    updated = await api.http.put("/models/openai", json={"max_tokens": 100})
    assert updated.json()["has_api_key"] is True  # omitted: kept
    assert updated.json()["max_tokens"] == 100
    assert updated.json()["temperature"] == 0.3
    listed = await api.http.get("/models")
    assert KEY not in listed.text
    assert {m["name"] for m in listed.json()} == {"stub", "openai"}

    cleared = await api.http.put("/models/openai", json={"api_key": None})
    assert cleared.json()["has_api_key"] is False
    assert (await api.http.get("/models/openai")).json()["has_api_key"] is False


async def test_keys_are_encrypted_at_rest(api: ApiStack) -> None:
    await api.http.post(
        "/models", json={"name": "anthropic", "model": "anthropic/x", "api_key": KEY}
    )
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.connect() as connection:
            stored = (
                await connection.execute(
                    text("SELECT api_key_encrypted FROM model_configs WHERE name = 'anthropic'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stored and KEY not in stored


async def test_conflicts_missing_and_bad_bodies(api: ApiStack) -> None:
    body = {"name": "dup", "model": "openai/x"}
    assert (await api.http.post("/models", json=body)).status_code == 201
    assert (await api.http.post("/models", json=body)).status_code == 409
    assert (await api.http.get("/models/none")).status_code == 404
    assert (await api.http.put("/models/none", json={"model": "x"})).status_code == 404
    assert (await api.http.delete("/models/none")).status_code == 404
    bad = await api.http.post("/models", json={"name": "has space", "model": "x"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "name"]
    null_model = await api.http.put("/models/dup", json={"model": None})
    assert null_model.status_code == 422
    assert (await api.http.delete("/models/dup")).status_code == 204
    assert (await api.http.get("/models/dup")).status_code == 404


async def test_concurrent_creates_of_one_name_give_one_201_and_409s(api: ApiStack) -> None:
    body = {"name": "raced", "model": "openai/x", "api_key": KEY}
    responses = await asyncio.gather(*(api.http.post("/models", json=body) for _ in range(8)))
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.json() == {"detail": "a model config named 'raced' already exists"}


async def test_a_create_that_loses_the_race_at_the_database_is_409(api: ApiStack) -> None:
    body = {"name": "raced", "model": "openai/x"}
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.begin() as rival:
            # The rival's row is written but not committed: the API's check cannot see it,
            # and its insert waits on the rival's lock, then meets the unique key.
            now = utcnow()
            await rival.execute(
                insert(ModelConfigRow).values(
                    name="raced", model="openai/y", params={}, created_at=now, updated_at=now
                )
            )
            request = asyncio.create_task(api.http.post("/models", json=body))
            await asyncio.sleep(1)
            assert not request.done()
        response = await request
    finally:
        await engine.dispose()
    assert response.status_code == 409, response.text
    assert (await api.http.get("/models/raced")).json()["model"] == "openai/y"
