"""The CLI's way to the API: a personal token stored for one Kasal, sent as a bearer.

`kasal login` and `kasal dev` store it; every command that talks to the API reads it.
The file lives in KASAL_CONFIG_DIR (default ~/.config/kasal), readable by its owner only.
KASAL_URL and KASAL_TOKEN, when set, choose the Kasal and the token instead (scripts, CI).
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


def target() -> Credentials:
    """The Kasal to talk to and the token to send it: KASAL_URL (else the stored login's,
    else this host's settings) and KASAL_TOKEN (else the stored login's). The stored token
    goes only to the Kasal it was issued by, never to another one KASAL_URL names."""
    stored = load_credentials()
    url = os.environ.get("KASAL_URL", "").strip().rstrip("/")
    token = os.environ.get("KASAL_TOKEN", "").strip()
    if not url:
        url = stored.url.rstrip("/") if stored else _this_host()
    if token:
        return Credentials(url, token)
    if stored is not None and stored.url.rstrip("/") == url:
        return stored
    raise NotLoggedIn(
        f"not logged in to {url}: run `kasal login` (or set KASAL_TOKEN; `kasal dev` "
        "logs this machine in)"
    )


def _this_host() -> str:
    from kasal.settings import get_settings

    return get_settings().app_url.rstrip("/")


def api_client(
    credentials: Credentials | None = None, workspace: str | None = None
) -> httpx.Client:
    """An HTTP client for /api/v1 of the chosen Kasal (see ``target``)."""
    credentials = credentials or target()
    headers: dict[str, Any] = {"Authorization": f"Bearer {credentials.token}"}
    if workspace:
        headers["X-Kasal-Workspace"] = workspace
    return httpx.Client(
        base_url=f"{credentials.url.rstrip('/')}/api/v1", headers=headers, timeout=30
    )
