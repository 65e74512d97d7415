"""The OpenAPI document tells the truth: schemathesis fuzzes the running API against it
(every check, bounded examples, fixed seed; tests/schemathesis.toml holds the waivers
and their reasons), every error is declared with the one error schema, and the
frontend's copy of the document (and the types generated from it) is the app's."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from api.openapi import openapi_document, render
from tests.api_stack import ApiStack
from tests.test_api_runs import create_workflow, start, wait_for_run

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
FRONTEND = Path(__file__).parents[1] / "frontend"
REGENERATE = "regenerate with `cd frontend && npm run gen:api` and commit the result"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this is about HTTP answers, which the database does not change."""
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_error_answer_is_declared_with_the_one_error_schema() -> None:
    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorLocation"]["required"]) == {"loc", "msg", "type"}
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and path != "/healthz":
                content = response["content"]["application/json"]
                assert content["schema"] == ERROR_SCHEMA, (method, path, status)


def test_the_frontends_openapi_document_is_the_apps() -> None:
    committed = (FRONTEND / "src/api/openapi.json").read_text()
    assert committed == render(openapi_document()), f"the API changed: {REGENERATE}"


def test_the_frontends_api_types_are_generated_from_that_document() -> None:
    node = shutil.which("node")
    assert node, "Node is needed to generate the frontend's API types"
    check = subprocess.run(
        [node, "scripts/gen-api-types.mjs", "--check"],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, f"{check.stderr.strip()}: {REGENERATE}"


# A lone approval gate: a run of it waits, and runs no LLM.
GATE = {"steps": [{"id": "review", "type": "approval", "after": [], "message": "Go?"}]}

# The operations the second pass gives real resources. Those that would delete them, or
# start runs (that would wait on the session's Temporal after the test), keep the first
# pass's made-up ids.
ON_RESOURCES = {
    "workflow_id": [
        "GET /api/v1/workflows/{workflow_id}",
        "PUT /api/v1/workflows/{workflow_id}",
        "GET /api/v1/workflows/{workflow_id}/versions",
        "GET /api/v1/workflows/{workflow_id}/versions/{version}",
    ],
    "run_id": [
        "GET /api/v1/runs/{run_id}",
        "GET /api/v1/runs/{run_id}/events",
        "GET /api/v1/runs/{run_id}/history",
        "POST /api/v1/runs/{run_id}/cancel",
    ],
    "run_id, step_id": [
        "GET /api/v1/runs/{run_id}/steps/{step_id}/transcript",
        "POST /api/v1/runs/{run_id}/steps/{step_id}/decision",
        "POST /api/v1/runs/{run_id}/steps/{step_id}/retry",
        "POST /api/v1/runs/{run_id}/steps/{step_id}/skip",
    ],
}


async def resources(api: ApiStack) -> dict[str, str]:
    """A workflow and a closed run of it: closed, so that its event stream ends after
    its snapshot and nothing of it waits in the session's Temporal after the test."""
    workflow_id = await create_workflow(api, GATE)
    run_id = (await start(api, workflow_id))["run_id"]
    await wait_for_run(api, run_id, "waiting_for_approval")
    assert (await api.http.post(f"/runs/{run_id}/cancel")).status_code == 202
    await wait_for_run(api, run_id, "cancelled")
    return {"workflow_id": workflow_id, "run_id": run_id, "step_id": "review"}


def config_with(ids: dict[str, str], path: Path) -> Path:
    """tests/schemathesis.toml, and the ids ON_RESOURCES's operations take."""
    text = CONFIG.read_text()
    for names, operations in ON_RESOURCES.items():
        parameters = ", ".join(f'"path.{name}" = "{ids[name]}"' for name in names.split(", "))
        listed = ", ".join(f'"{operation}"' for operation in operations)
        text += f"\n[[operations]]\ninclude-name = [{listed}]\nparameters = {{ {parameters} }}\n"
    path.write_text(text)
    return path


async def schemathesis(url: str, config: Path, *args: str, cwd: Path, token: str) -> None:
    """Run schemathesis as the stack's admin: every operation then gets past its role
    check (tests/test_auth.py proves the 401s and 403s)."""
    process = await asyncio.create_subprocess_exec(
        *[str(ST), "--no-color", "--config-file", str(config), "run", url],
        *["--workers", "1", "--header", f"Authorization: Bearer {token}", *args],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")[-20_000:]


async def test_schemathesis_finds_nothing(api: ApiStack, tmp_path: Path) -> None:
    url = f"{api.server.url}/openapi.json"
    token = api.http.headers["Authorization"].removeprefix("Bearer ")
    # Every operation, valid and invalid requests, with made-up ids. Not the stateful
    # phase: it follows the runs list into runs other tests left on the session's shared
    # Temporal server, whose workers and blob stores are gone (an honest 503 each time).
    # Nor the operations that wait on a run's worker: on those left-behind runs they wait
    # out their 5 s for one, and under load past schemathesis' own timeout. The second
    # pass below sends them to this test's own run.
    waits_on_worker = [
        f"--exclude-name=POST /api/v1/runs/{{run_id}}/steps/{{step_id}}/{action}"
        for action in ("decision", "retry", "skip")
    ]
    await schemathesis(
        url,
        CONFIG,
        "--phases=examples,coverage,fuzzing",
        *waits_on_worker,
        cwd=tmp_path,
        token=token,
    )
    # Valid requests again on real resources, so that answers other than 404 are checked.
    # (Positive only: an id the config supplies replaces an invalid one schemathesis made,
    # which it would then report as an invalid request accepted.)
    config = config_with(await resources(api), tmp_path / "schemathesis.toml")
    operations = [f"--include-name={name}" for names in ON_RESOURCES.values() for name in names]
    await schemathesis(
        url,
        config,
        "--mode=positive",
        "--phases=examples,coverage,fuzzing",
        *operations,
        cwd=tmp_path,
        token=token,
    )
