"""`kasal serve` as app.yaml runs it: one process that migrates and seeds the database,
then runs the API and a worker against an external Temporal, in proxy mode, and stops
both on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from kasal.probes import http_ok
from kasal.processes import stop_process
from tests.test_cli import free_port, kasal_env

ROOT = Path(__file__).resolve().parents[1]
READY_SECONDS = 240.0


def _serve(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m kasal serve`, as app.yaml's command, in its own session."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kasal", "serve", *arguments],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _until_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while "Kasal is serving" not in log.read_text(errors="replace"):
        if process.poll() is not None:
            raise AssertionError(f"kasal serve exited {process.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"kasal serve was not ready in time:\n{log.read_text()}")
        await asyncio.sleep(0.5)


async def test_serve_runs_the_api_and_a_worker_until_sigterm(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    env = kasal_env(
        KASAL_DATA_DIR=str(tmp_path / "data"),
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_NAMESPACE=temporal_env.client.namespace,
        KASAL_TASK_QUEUE=f"kasal-serve-test-{uuid.uuid4()}",
        KASAL_AUTH="proxy",
        KASAL_TRUSTED_PROXY="127.0.0.1,::1",
    )
    log = tmp_path / "serve.log"
    process = _serve(["--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        await _until_ready(process, log)
        # /healthz answered 200: the database, Temporal and the worker are all up.
        assert http_ok(f"http://127.0.0.1:{port}/healthz")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            me = await http.get("/api/v1/me", headers={"X-Forwarded-Email": "ops@kasal.test"})
            assert me.status_code == 200, me.text
            assert me.json()["auth"] == "proxy"
            # Seeded: the shared workspace's example workflows are there.
            listed = await http.get(
                "/api/v1/workflows", headers={"X-Forwarded-Email": "ops@kasal.test"}
            )
            assert listed.status_code == 200, listed.text

        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()
        output = log.read_text()
        for part in ("db", "seed", "api", "worker"):  # each relayed behind its name
            assert re.search(rf"^{part}\s+\|", output, re.MULTILINE), (part, output)
    finally:
        stop_process(process, 5, kill_group=True)
