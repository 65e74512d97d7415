"""A worker in its own process (`python -m worker`), so that a test can SIGKILL it.

The process is the worker's supervisor (worker/supervisor.py); the worker itself is its
child, forked again when it is killed. Killing the supervisor kills the worker too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from kasal.settings import Settings


class WorkerProcess:
    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            "KASAL_DATA_DIR": str(self.settings.KASAL_DATA_DIR),
            "KASAL_DATABASE_URL": self.settings.database_url,
            "TEMPORAL_ADDRESS": self.settings.temporal_address,
            "TEMPORAL_NAMESPACE": self.settings.TEMPORAL_NAMESPACE,
            "KASAL_TASK_QUEUE": self.settings.KASAL_TASK_QUEUE,
            "PYTHONUNBUFFERED": "1",
        }
        if self.settings.KASAL_SECRET_KEY:
            env["KASAL_SECRET_KEY"] = self.settings.KASAL_SECRET_KEY
        if self.settings.KASAL_WORKER_METRICS_PORT:
            env["KASAL_WORKER_METRICS_PORT"] = str(self.settings.KASAL_WORKER_METRICS_PORT)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def worker_pid(self) -> int:
        """The worker's own process, which the supervisor forked (its pid is in the
        worker's Temporal identity)."""
        [child] = supervised_workers(self.pid)
        return child

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL the supervisor, and with it the worker: no shutdown, no goodbye to the
        server, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def supervised_workers(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children]
