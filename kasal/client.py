"""The CLI's way to the API: a personal token stored for one Kasal, sent as a bearer.

`kasal login` and `kasal dev` store it; every command that talks to the API reads it.
The file lives in KASAL_CONFIG_DIR (default ~/.config/kasal), readable by its owner only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

CREDENTIALS_FILE = "credentials.json"


def config_dir() -> Path:
    configured = os.environ.get("KASAL_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "kasal"


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str
    email: str = ""


def load_credentials() -> Credentials | None:
    path = config_dir() / CREDENTIALS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Credentials(**{k: data[k] for k in ("url", "token", "email") if k in data})


def save_credentials(credentials: Credentials) -> Path:
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / CREDENTIALS_FILE
    # Created with owner-only permissions before the secret is written into it.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(credentials), file)
    return path


def forget_credentials() -> bool:
    path = config_dir() / CREDENTIALS_FILE
    if path.exists():
        path.unlink()
        return True
    return False


class NotLoggedIn(Exception):
    pass


def api_client(
    credentials: Credentials | None = None, workspace: str | None = None
) -> httpx.Client:
    """An HTTP client for /api/v1 of the stored Kasal, as its stored user."""
    credentials = credentials or load_credentials()
    if credentials is None:
        raise NotLoggedIn("not logged in: run `kasal login` (or `kasal dev` on this machine)")
    headers: dict[str, Any] = {"Authorization": f"Bearer {credentials.token}"}
    if workspace:
        headers["X-Kasal-Workspace"] = workspace
    return httpx.Client(
        base_url=f"{credentials.url.rstrip('/')}/api/v1", headers=headers, timeout=30
    )
