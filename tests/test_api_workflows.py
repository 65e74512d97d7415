"""Workflow definitions over HTTP, on SQLite and on Postgres."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from db.base import utcnow
from db.models import Workflow, WorkflowVersion
from db.session import create_engine
from tests.api_stack import ApiStack
from tests.helpers import agent, task


def spec(**overrides: Any) -> dict[str, Any]:
    return {"agents": [agent()], "steps": [task("a"), task("b", after=["a"])], **overrides}


async def create(api: ApiStack, name: str = "brief", **body: Any) -> dict[str, Any]:
    response = await api.http.post("/workflows", json={"name": name, "spec": spec(), **body})
    assert response.status_code == 201, response.text
    return response.json()


async def total_workflows(api: ApiStack) -> int:
    response = await api.http.get("/workflows")
    return int(response.json()["total"])


async def test_create_read_update_versions_and_archive(api: ApiStack) -> None:
    created = await create(api, description="first", layout={"nodes": {"a": {"x": 1, "y": 2}}})
    assert created["version"] == 1
    assert created["layout"] == {"nodes": {"a": {"x": 1, "y": 2}}}
    workflow_id = created["id"]

    new_spec = spec(steps=[task("a")])
    updated = await api.http.put(
        f"/workflows/{workflow_id}", json={"spec": new_spec, "description": "second"}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2

    latest = (await api.http.get(f"/workflows/{workflow_id}")).json()
    assert latest["version"] == 2
    assert latest["spec"] == new_spec
    assert latest["description"] == "second"
    first = (await api.http.get(f"/workflows/{workflow_id}/versions/1")).json()
    assert first["spec"] == spec()  # untouched by the PUT
    versions = (await api.http.get(f"/workflows/{workflow_id}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]

    assert (await api.http.delete(f"/workflows/{workflow_id}")).status_code == 204
    assert (await api.http.get(f"/workflows/{workflow_id}")).status_code == 404
    assert await total_workflows(api) == 0
    await create(api)  # an archived workflow frees its name


async def test_list_filters_by_name_and_pages(api: ApiStack) -> None:
    for name in ("alpha-brief", "beta-brief", "gamma"):
        await create(api, name=name)
    page = (await api.http.get("/workflows", params={"name": "brief", "limit": 1})).json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    rest = (await api.http.get("/workflows", params={"name": "brief", "offset": 1})).json()
    names = {page["items"][0]["name"], rest["items"][0]["name"]}
    assert names == {"alpha-brief", "beta-brief"}


async def test_an_invalid_spec_is_422_with_paths_and_writes_nothing(api: ApiStack) -> None:
    bad = spec(steps=[task("a", agent="ghost"), task("b", after=["nowhere"])])
    response = await api.http.post("/workflows", json={"name": "brief", "spec": bad})
    assert response.status_code == 422
    errors = response.json()["detail"]
    ghost = {"loc": ["steps", 0, "agent"], "msg": "unknown agent 'ghost'", "type": "compile_error"}
    assert ghost in errors
    assert any(e["loc"] == ["steps", 1, "after", 0] for e in errors)
    assert await total_workflows(api) == 0


async def test_a_pydantic_error_is_located_from_the_definition_root(api: ApiStack) -> None:
    bad = spec(steps=[task("a", description="")])
    response = await api.http.post("/workflows", json={"name": "brief", "spec": bad})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["steps", 0, "description"]]


async def test_an_unknown_model_is_422(api: ApiStack) -> None:
    bad = spec(agents=[agent(llm="gpt-nowhere")])
    response = await api.http.post("/workflows", json={"name": "brief", "spec": bad})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["agents", 0, "llm"]
    assert "gpt-nowhere" in error["msg"]
    assert await total_workflows(api) == 0


async def test_a_taken_name_is_409_and_writes_nothing(api: ApiStack) -> None:
    await create(api)
    response = await api.http.post("/workflows", json={"name": "brief", "spec": spec()})
    assert response.status_code == 409
    assert "brief" in response.json()["detail"]
    assert await total_workflows(api) == 1
    other = await create(api, name="other")
    renamed = await api.http.put(
        f"/workflows/{other['id']}", json={"name": "brief", "spec": spec()}
    )
    assert renamed.status_code == 409
    versions = (await api.http.get(f"/workflows/{other['id']}/versions")).json()
    assert len(versions) == 1  # the refused PUT left no version behind


async def test_unknown_workflows_and_versions_are_404(api: ApiStack) -> None:
    missing = uuid.uuid4()
    assert (await api.http.get(f"/workflows/{missing}")).status_code == 404
    assert (await api.http.put(f"/workflows/{missing}", json={"spec": spec()})).status_code == 404
    assert (await api.http.delete(f"/workflows/{missing}")).status_code == 404
    created = await create(api)
    response = await api.http.get(f"/workflows/{created['id']}/versions/7")
    assert response.status_code == 404
    assert response.json() == {"detail": f"workflow {created['id']} has no version 7"}


async def test_validate_checks_without_inputs(api: ApiStack) -> None:
    with_input = spec(inputs=[{"name": "topic"}], steps=[task("a", description="On {topic}")])
    response = await api.http.post("/workflows/validate", json={"spec": with_input})
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "steps": ["a"], "inputs": ["topic"]}

    response = await api.http.post("/workflows/validate", json={"spec": spec(steps=[])})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["steps"]


async def test_restarting_the_api_loses_nothing(api: ApiStack) -> None:
    created = await create(api)
    await api.restart_api()
    response = await api.http.get(f"/workflows/{created['id']}")
    assert response.status_code == 200
    assert response.json()["spec"] == spec()


async def test_get_gives_the_version_as_etag_and_if_match_guards_a_put(api: ApiStack) -> None:
    workflow_id = (await create(api))["id"]
    path = f"/workflows/{workflow_id}"
    read = await api.http.get(path)
    assert read.headers["ETag"] == '"1"'

    saved = await api.http.put(path, json={"spec": spec()}, headers={"If-Match": '"1"'})
    assert saved.status_code == 200, saved.text
    assert saved.headers["ETag"] == '"2"'
    stale = await api.http.put(path, json={"spec": spec()}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["detail"] == (
        f'If-Match names "1", but workflow {workflow_id} is at version 2: '
        "read it again and reapply the change"
    )
    for if_match, version in (("2", 3), ('W/"3"', 4), ('"1", "4"', 5), ("*", 6)):
        response = await api.http.put(path, json={"spec": spec()}, headers={"If-Match": if_match})
        assert (response.status_code, response.json()["version"]) == (200, version), if_match
    assert (
        await api.http.put(path, json={"spec": spec()}, headers={"If-Match": '"v6"'})
    ).status_code == 412
    versions = (await api.http.get(f"{path}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4, 5, 6]  # refused PUTs saved nothing
    assert (await api.http.get(path)).headers["ETag"] == '"6"'


@asynccontextmanager
async def rival_save(api: ApiStack, workflow_id: str) -> AsyncIterator[AsyncConnection]:
    """Another writer saving version 2, as a concurrent PUT does, committed on leaving."""
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.begin() as rival:
            await rival.execute(
                update(Workflow)
                .where(Workflow.id == uuid.UUID(workflow_id))
                .values(latest_version=2, updated_at=utcnow())
            )
            await rival.execute(
                insert(WorkflowVersion).values(
                    workflow_id=uuid.UUID(workflow_id), version=2, spec=spec(), created_at=utcnow()
                )
            )
            yield rival
    finally:
        await engine.dispose()


async def put_during_rival_save(
    api: ApiStack, workflow_id: str, headers: dict[str, str]
) -> tuple[int, Any]:
    async with rival_save(api, workflow_id):
        # The API read version 1 (the rival's is not committed) and now waits on its lock.
        request = asyncio.create_task(
            api.http.put(f"/workflows/{workflow_id}", json={"spec": spec()}, headers=headers)
        )
        await asyncio.sleep(1)
        assert not request.done()
    response = await request
    return response.status_code, response.json()


async def test_a_put_that_loses_a_race_is_409_retry_not_a_name_clash(api: ApiStack) -> None:
    workflow_id = (await create(api))["id"]
    assert await put_during_rival_save(api, workflow_id, {}) == (
        409,
        {"detail": "the definition changed concurrently; retry"},
    )
    retried = await api.http.put(f"/workflows/{workflow_id}", json={"spec": spec()})
    assert (retried.status_code, retried.json()["version"]) == (200, 3)


async def test_a_put_with_if_match_that_loses_a_race_is_412(api: ApiStack) -> None:
    workflow_id = (await create(api))["id"]
    code, body = await put_during_rival_save(api, workflow_id, {"If-Match": '"1"'})
    assert code == 412
    assert "changed concurrently" in body["detail"]
    versions = (await api.http.get(f"/workflows/{workflow_id}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]


async def test_concurrent_puts_each_save_a_version_or_are_told_to_retry(api: ApiStack) -> None:
    workflow_id = (await create(api))["id"]
    responses = await asyncio.gather(
        *(api.http.put(f"/workflows/{workflow_id}", json={"spec": spec()}) for _ in range(6))
    )
    saved = sorted(r.json()["version"] for r in responses if r.status_code == 200)
    refused = [r.json() for r in responses if r.status_code != 200]
    assert saved == list(range(2, 2 + len(saved)))
    assert refused == [{"detail": "the definition changed concurrently; retry"}] * len(refused)
