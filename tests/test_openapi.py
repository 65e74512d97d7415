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


async def test_schemathesis_finds_nothing(api: ApiStack, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{api.server.url}/openapi.json",
        "--workers",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
