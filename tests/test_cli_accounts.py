"""`kasal user`, `kasal token` and `kasal workspace` on the server's host, then `kasal
login` / `whoami` / `logout` over HTTP, as an operator scripts them (`--json`)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.api_stack import ApiStack


async def kasal(api: ApiStack, config: Path, *args: str, stdin: str | None = None) -> Any:
    """Run `kasal` without blocking this loop: the API it may call is served here."""
    env = {
        **os.environ,
        "KASAL_DATABASE_URL": api.settings.database_url,
        "KASAL_DATA_DIR": str(api.settings.KASAL_DATA_DIR),
        "KASAL_CONFIG_DIR": str(config),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kasal",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate((stdin or "").encode()), timeout=120)
    assert process.returncode == 0, err.decode()
    return json.loads(out) if "--json" in args else out.decode()


async def test_an_operator_scripts_users_workspaces_tokens_and_a_login(
    api: ApiStack, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    added = await kasal(api, config, "user", "add", "Dee@Example.com", "--role", "editor", "--json")
    assert added["email"] == "dee@example.com" and added["workspace"] == "default"
    workspace = await kasal(api, config, "workspace", "create", "research", "--json")
    await kasal(
        api, config, "workspace", "add", "research", "dee@example.com", "--role", "admin", "--json"
    )
    await kasal(
        api,
        config,
        "user",
        "reset-password",
        "dee@example.com",
        "--password-stdin",
        "--json",
        stdin="a long passphrase\n",
    )
    token = await kasal(
        api, config, "token", "create", "dee@example.com", "--expires", "2d", "--json"
    )
    assert token["token"].startswith("kasal_")

    async with api.client_as(token["token"]) as dee:
        me = (await dee.get("/me")).json()
        roles = {w["name"]: w["role"] for w in me["workspaces"]}
        assert roles == {"default": "editor", "research": "admin", "dee@example.com": "admin"}
        assert workspace["id"] in {w["id"] for w in me["workspaces"]}
    async with httpx.AsyncClient(base_url=api.server.url) as browser:
        signed_in = await browser.post(
            "/auth/login", json={"email": "dee@example.com", "password": "a long passphrase"}
        )
        assert signed_in.status_code == 204

    logged_in = await kasal(
        api, config, "login", "--url", api.server.url, "--token", token["token"], "--json"
    )
    assert logged_in == {"url": api.server.url, "email": "dee@example.com"}
    assert (config / "credentials.json").stat().st_mode & 0o777 == 0o600
    whoami = await kasal(api, config, "whoami", "--json")
    assert whoami["user"]["email"] == "dee@example.com"
    assert await kasal(api, config, "logout", "--json") == {"logged_out": True}
    assert not (config / "credentials.json").exists()
