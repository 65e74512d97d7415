"""`kasal dev` end to end, as a new user runs it: every part in its own process, the
example workflow on the bundled model, and the run visible in Temporal Web."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api_stack import free_port


class DevStack:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.ui_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("KASAL_", "TEMPORAL_"))},
            "KASAL_DATA_DIR": str(tmp_path / "data"),
            "KASAL_PORT": str(self.port),
            "KASAL_TEMPORAL_PORT": str(free_port()),
            "KASAL_TEMPORAL_UI_PORT": str(self.ui_port),
            "KASAL_LLM_PORT": str(free_port()),
            # Where `kasal dev` stores the CLI's token, and `kasal whoami` reads it.
            "KASAL_CONFIG_DIR": str(tmp_path / "config"),
        }
        self.log_path = tmp_path / "dev.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kasal", "dev"],
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"/healthz never answered ok:\n{self.log()}")

    def sign_in_link(self, timeout: float = 60) -> str:
        """The one-time link in the ready line (it follows /healthz by a moment)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"Kasal is ready: sign in (\S+) \|", self.log())
            if found:
                return found.group(1)
            time.sleep(0.5)
        raise AssertionError(f"no sign-in link in the ready line:\n{self.log()}")

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def dev_stack(tmp_path: Path) -> Iterator[DevStack]:
    stack = DevStack(tmp_path)
    stack.start()
    try:
        yield stack
    finally:
        if stack.process is not None and stack.process.poll() is None:
            os.killpg(stack.process.pid, signal.SIGKILL)


def test_kasal_dev_runs_the_example_on_the_local_model(dev_stack: DevStack) -> None:
    dev_stack.wait_healthy()
    link = dev_stack.sign_in_link()
    assert "password" not in dev_stack.log().lower()
    base = f"http://127.0.0.1:{dev_stack.port}"
    with httpx.Client(base_url=base, timeout=30) as browser:
        opened = browser.get(link.removeprefix(base))
        assert opened.status_code == 303, opened.text
        assert browser.get("/api/v1/me").json()["user"]["email"] == "admin@kasal.local"
    # The CLI on this machine works at once, with the token `kasal dev` stored for it.
    whoami = subprocess.run(
        [sys.executable, "-m", "kasal", "whoami", "--json"],
        env=dev_stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["workspace"]["role"] == "admin"
    token = json.loads((Path(dev_stack.env["KASAL_CONFIG_DIR"]) / "credentials.json").read_text())
    api = httpx.Client(
        base_url=f"{base}/api/v1",
        timeout=30,
        headers={"Authorization": f"Bearer {token['token']}"},
    )
    [example] = api.get("/workflows", params={"name": "research-brief"}).json()["items"]
    created = api.post(f"/workflows/{example['id']}/runs", json={"inputs": {"topic": "tides"}})
    assert created.status_code == 201, created.text
    run_id = created.json()["run_id"]

    run: dict[str, Any] = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run = api.get(f"/runs/{run_id}").json()
        if run["status"] not in ("running",):
            break
        time.sleep(1)
    assert run["status"] == "completed", run
    assert all(step["output"].strip() for step in run["steps"])

    web = f"http://127.0.0.1:{dev_stack.ui_port}/api/v1/namespaces/default/workflows"
    assert httpx.get(f"{web}/{run_id}", timeout=10).status_code == 200
    assert httpx.get(f"{web}/run-that-never-was", timeout=10).status_code == 404
    assert created.json()["temporal"]["web_url"].startswith(
        f"http://127.0.0.1:{dev_stack.ui_port}/"
    )

    assert dev_stack.stop() == 0, dev_stack.log()
