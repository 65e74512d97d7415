"""Who may call what: every route needs a principal and a role, read from the OpenAPI
document itself; sign-in by password, link, cookie and token; CSRF; the audit log."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.api_stack import ApiStack, bearer, issue_token
from tests.stub_llm import StubLLM
from workflows.roles import ROLE_ORDER, Role

GATE = {"steps": [{"id": "g", "type": "approval", "after": [], "message": "ok?"}]}
_PARAMETER = re.compile(r"\{(\w+)\}")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1")
        for method, operation in operations.items()
    ]


def _url(path: str, operation: dict[str, Any]) -> str:
    """The path with a well-formed made-up value for each parameter."""
    kinds = {
        p["name"]: p.get("schema", {}).get("format") or p.get("schema", {}).get("type")
        for p in operation.get("parameters", [])
    }

    def value(match: re.Match[str]) -> str:
        if match.group(1) == "workspace_id":
            return "default"  # where the walk's users have their roles
        kind = kinds.get(match.group(1))
        return str(uuid.uuid4()) if kind == "uuid" else "1" if kind == "integer" else "x"

    return _PARAMETER.sub(value, path).removeprefix("/api/v1")


async def test_no_route_answers_without_a_principal_or_below_its_role(api: ApiStack) -> None:
    document = (await api.http.get(f"{api.server.url}/openapi.json")).json()
    operations = _operations(document)
    assert len(operations) > 40
    tokens = {
        role: await issue_token(api.settings, f"{role.value}@kasal.test", role)
        for role in ROLE_ORDER[:-1]
    }
    async with httpx.AsyncClient(base_url=f"{api.server.url}/api/v1", timeout=30) as anonymous:
        for method, path, operation in operations:
            minimum = Role(operation["x-kasal-role"])
            url = _url(path, operation)
            answer = await anonymous.request(method, url, json={})
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer")
            forged = await anonymous.request(
                method, url, json={}, headers=bearer("kasal_not-a-token")
            )
            assert forged.status_code == 401, (method, path)
            if minimum == Role.VIEWER:
                continue
            below = ROLE_ORDER[minimum.rank - 1]
            answer = await anonymous.request(method, url, json={}, headers=bearer(tokens[below]))
            assert answer.status_code == 403, (method, path, below, answer.text)


async def test_an_instance_admin_is_an_admin_of_default(api: ApiStack) -> None:
    """The admin of their personal workspace only cannot create shared workspaces."""
    token = await issue_token(api.settings, "solo@kasal.test", Role.VIEWER)
    async with api.client_as(token) as solo:
        me = (await solo.get("/me")).json()
        personal = next(w for w in me["workspaces"] if w["personal"])
        assert personal["role"] == "admin"
        async with api.client_as(token, workspace=personal["id"]) as in_personal:
            refused = await in_personal.post("/workspaces", json={"name": "mine"})
            assert refused.status_code == 403
    created = await api.http.post("/workspaces", json={"name": "research"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "admin"


async def test_me_names_the_principal_its_workspaces_and_roles(api: ApiStack) -> None:
    me = (await api.http.get("/me")).json()
    assert me["user"]["email"] == "admin@kasal.test"
    assert me["auth"] == "token"
    assert me["workspace"] == {
        "id": "default",
        "name": "default",
        "role": "admin",
        "personal": False,
    }
    assert {w["name"] for w in me["workspaces"]} == {"default", "admin@kasal.test"}
    unknown = await api.http.get("/me", headers={"X-Kasal-Workspace": "elsewhere"})
    assert unknown.status_code == 404


async def test_password_sign_in_sets_a_safe_cookie_and_guards_against_csrf(
    api: ApiStack,
) -> None:
    engine_token = await issue_token(api.settings, "pat@kasal.test", Role.EDITOR)
    assert engine_token
    # A password, as `kasal user reset-password` sets one.
    from api.services.identity import IdentityService
    from db.session import create_engine, session_factory
    from db.uow import UnitOfWork

    engine = create_engine(api.settings.database_url)
    await IdentityService(UnitOfWork(session_factory(engine))).set_password(
        "pat@kasal.test", "correct horse battery"
    )
    await engine.dispose()

    origin = api.server.url
    async with httpx.AsyncClient(base_url=origin, timeout=30) as browser:
        wrong = await browser.post(
            "/auth/login", json={"email": "pat@kasal.test", "password": "nope nope"}
        )
        assert wrong.status_code == 401
        signed_in = await browser.post(
            "/auth/login", json={"email": "PAT@kasal.test", "password": "correct horse battery"}
        )
        assert signed_in.status_code == 204, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert "kasal_session=" in cookie and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # served over plain http here
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200 and me.json()["auth"] == "session"
        body = {"name": "csrf", "spec": GATE}
        forged = await browser.post(
            "/api/v1/workflows", json=body, headers={"Origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        no_origin = await browser.post("/api/v1/workflows", json=body)
        assert no_origin.status_code == 403
        same_site = await browser.post("/api/v1/workflows", json=body, headers={"Origin": origin})
        assert same_site.status_code == 201, same_site.text
        await browser.post("/auth/logout")
        assert (await browser.get("/api/v1/me")).status_code == 401


async def test_sign_in_is_rate_limited(api: ApiStack) -> None:
    async with httpx.AsyncClient(base_url=api.server.url, timeout=30) as guesser:
        answers = [
            (
                await guesser.post(
                    "/auth/login", json={"email": "admin@kasal.test", "password": f"guess-{n}"}
                )
            ).status_code
            for n in range(12)
        ]
    assert answers[:10] == [401] * 10
    assert answers[10:] == [429, 429]


async def test_a_sign_in_link_works_once(api: ApiStack) -> None:
    from api.services.identity import IdentityService
    from db.session import create_engine, session_factory
    from db.uow import UnitOfWork

    engine = create_engine(api.settings.database_url)
    identity = IdentityService(UnitOfWork(session_factory(engine)))
    user = await identity.add_user("linked@kasal.test")
    link = await identity.issue(user.id, "link", lifetime=None)
    await engine.dispose()
    async with httpx.AsyncClient(base_url=api.server.url, timeout=30) as browser:
        first = await browser.get("/auth/link", params={"token": link.secret})
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert (await browser.get("/api/v1/me")).json()["user"]["email"] == "linked@kasal.test"
    async with httpx.AsyncClient(base_url=api.server.url, timeout=30) as another:
        second = await another.get("/auth/link", params={"token": link.secret})
        assert second.status_code == 303 and "expired" in second.headers["location"]
        assert (await another.get("/api/v1/me")).status_code == 401


async def test_personal_tokens_are_listed_and_revoked(api: ApiStack) -> None:
    created = await api.http.post("/me/tokens", json={"name": "ci", "expires_in_days": 30})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("kasal_")
    async with api.client_as(token) as ci:
        assert (await ci.get("/me")).status_code == 200
        listed = (await api.http.get("/me/tokens")).json()
        assert [t["name"] for t in listed if t["revoked_at"] is None].count("ci") == 1
        assert "token" not in listed[0]
        revoked = await api.http.delete(f"/me/tokens/{created.json()['id']}")
        assert revoked.status_code == 204
        assert (await ci.get("/me")).status_code == 401


async def test_the_audit_log_records_who_changed_what(api: ApiStack) -> None:
    body = {"name": "audited", "spec": GATE}
    assert (await api.http.post("/workflows", json=body)).status_code == 201
    page = (await api.http.get("/audit")).json()
    entry = next(e for e in page["items"] if e["action"] == "workflows-create")
    assert entry["actor"] == "admin@kasal.test"
    assert entry["workspace"] == "default"
    assert entry["source_ip"] == "127.0.0.1"
    viewer = await issue_token(api.settings, "reader@kasal.test", Role.VIEWER)
    async with api.client_as(viewer) as reader:
        assert (await reader.get("/audit")).status_code == 403


REFUSE_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'the audit log refuses'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the audit log refuses'; END $$",
        "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    ],
}


DROP_AUDIT_REFUSAL = {
    "sqlite": "DROP TRIGGER audit_refuses",
    "postgresql": "DROP TRIGGER audit_refuses ON audit_log",
}


async def test_a_launch_whose_audit_entry_cannot_be_written_is_not_answered_as_done(
    api: ApiStack, stub_llm: StubLLM
) -> None:
    """The audit entry is written before the answer is sent: were it written after, a
    launch could answer 201 and leave no entry (under overload, the pool had no
    connection left for it), with nobody told. Refused, the client sends the launch
    again with its Idempotency-Key: the run Temporal had already started answers, is
    audited once, and is run once."""
    from sqlalchemy import text

    from db.session import create_engine
    from tests.test_api_runs import create_workflow, wait_for_run

    workflow_id = await create_workflow(api)
    launch = f"/workflows/{workflow_id}/runs"
    body, headers = {"inputs": {"topic": "cats"}}, {"Idempotency-Key": "audited-once"}
    engine = create_engine(api.settings.database_url)
    try:
        async with engine.begin() as connection:
            for statement in REFUSE_AUDIT[engine.dialect.name]:
                await connection.execute(text(statement))
        refused = await api.http.post(launch, json=body, headers=headers)
        async with engine.begin() as connection:
            await connection.execute(text(DROP_AUDIT_REFUSAL[engine.dialect.name]))
    finally:
        await engine.dispose()
    assert refused.status_code == 500
    again = await api.http.post(launch, json=body, headers=headers)
    assert again.status_code == 201, again.text
    await wait_for_run(api, again.json()["run_id"], "completed")
    assert stub_llm.call_count() == 2  # the definition's two steps, once: one run
    entries = (await api.http.get("/audit")).json()["items"]
    assert [e["target"] for e in entries].count(f"/api/v1{launch}") == 1


async def test_an_admin_deletes_a_run_with_everything_kept_beside_it(api: ApiStack) -> None:
    from db.blobs import BlobStore
    from db.session import create_engine, session_factory
    from tests.helpers import eventually

    created = await api.http.post("/workflows", json={"name": "doomed", "spec": GATE})
    started = await api.http.post(f"/workflows/{created.json()['id']}/runs", json={})
    run_id = started.json()["run_id"]
    engine = create_engine(api.settings.database_url)
    blobs = BlobStore(session_factory(engine))
    await blobs.put(kind="output", run_id=run_id, step_id="g", content="kept beside the run")
    operator = await issue_token(api.settings, "op-del@kasal.test", Role.OPERATOR)
    async with api.client_as(operator) as client:
        assert (await client.delete(f"/runs/{run_id}")).status_code == 403
    assert (await api.http.delete(f"/runs/{run_id}")).status_code == 204
    assert (await api.http.get(f"/runs/{run_id}")).status_code == 404
    assert await blobs.contents_of_run(run_id, "output") == []
    await engine.dispose()

    async def executions() -> list[str]:
        query = f"WorkflowId = '{run_id}'"
        return [e.run_id async for e in api.env.client.list_workflows(query)]

    await eventually(executions, lambda found: found == [], timeout=30)


def test_the_readme_lists_every_route_with_its_role() -> None:
    from pathlib import Path

    from api.openapi import openapi_document

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    row = r"^\| `([A-Z]+ /api/v1/\S+)` \| ((?:viewer|operator|editor|admin)(?: of `\w+`)?) \|$"
    listed = dict(re.findall(row, readme, re.M))
    expected = {}
    for method, path, operation in _operations(openapi_document()):
        role = operation["x-kasal-role"]
        if "x-kasal-role-in" in operation:
            role += f" of `{operation['x-kasal-role-in']}`"
        expected[f"{method} {path}"] = role
    assert listed == expected
