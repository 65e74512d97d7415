"""What the fault harness runs on: a Temporal dev server it can restart, an in-process
worker it can restart, and worker processes it can SIGKILL mid-step.

The server keeps its state in a file on a fixed port, so a restart loses nothing and
every client and worker reconnects to the same address, as they would in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.model_registry import ModelRegistry
from db.blobs import BlobStore
from kasal.binaries import temporal_cli
from kasal.settings import Settings
from tests.conftest import free_port
from tests.worker_process import WorkerProcess, supervised_workers
from worker.main import build_worker
from workflows.search_attributes import ALL_KEYS

# Continue-as-new is suggested this often, so that most fuzzed runs cross it.
SUGGEST_CONTINUE_AS_NEW_EVENTS = 24
WORKER_READY_SECONDS = 120


class FuzzTemporal:
    """A dev server on a file and a fixed port, restarted as an operator would restart it."""

    def __init__(self, data_dir: Path, converter: DataConverter) -> None:
        self.port = free_port()
        self.database = data_dir / "temporal.db"
        self.converter = converter
        self.env: WorkflowEnvironment | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> Client:
        self.env = await WorkflowEnvironment.start_local(
            port=self.port,
            dev_server_database_filename=str(self.database),
            dev_server_existing_path=str(temporal_cli()),
            data_converter=self.converter,
            search_attributes=ALL_KEYS,
            dev_server_extra_args=[
                "--dynamic-config-value",
                f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_EVENTS}",
            ],
        )
        return self.env.client

    async def restart(self) -> None:
        """Stop the server and start it again; clients made before reconnect by themselves."""
        await self.shutdown()
        await self.start()

    async def shutdown(self) -> None:
        if self.env is not None:
            await self.env.shutdown()
            self.env = None


class InProcessWorker:
    """A worker in the test's process that a scenario can stop and start again on the same
    queue, so the run's next task is replayed from history by a worker with an empty cache."""

    def __init__(self, client: Client, models: ModelRegistry, blobs: BlobStore) -> None:
        self.client, self.models, self.blobs = client, models, blobs
        self.task_queue = f"kasal-fuzz-{uuid.uuid4()}"
        self.worker: Worker | None = None

    async def start(self) -> None:
        self.worker = build_worker(self.client, self.task_queue, self.models, self.blobs, 50)
        await self.worker.__aenter__()

    async def stop(self) -> None:
        if self.worker is not None:
            await self.worker.__aexit__(None, None, None)
            self.worker = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


class WorkerPool:
    """Two `python -m worker` processes on their own task queue. A scenario kills the one
    that runs its step with SIGKILL, its supervisor too or the worker alone. A fresh
    process takes a dead supervisor's place; a worker killed alone is forked again."""

    SIZE = 2

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings.model_copy(
            update={"KASAL_TASK_QUEUE": f"kasal-fuzz-processes-{uuid.uuid4()}"}
        )
        self.log_dir = log_dir
        self.processes: list[WorkerProcess] = []
        self.spawned = 0

    @property
    def task_queue(self) -> str:
        return self.settings.KASAL_TASK_QUEUE

    def _spawn(self) -> WorkerProcess:
        self.spawned += 1
        process = WorkerProcess(self.settings, self.log_dir / f"worker-{self.spawned}.log")
        self.processes.append(process.start())
        return process

    async def ready(self) -> None:
        """Until SIZE processes poll the queue."""
        while len(self.processes) < self.SIZE:
            self._spawn()
        await asyncio.gather(*(_until_polling(p) for p in self.processes))

    async def kill_the_worker_running(
        self, handle: WorkflowHandle[Any, Any], step_id: str, with_supervisor: bool
    ) -> str:
        """SIGKILL the worker that runs the step's pending activity; its identity. With its
        supervisor, a fresh process takes the pool's place; alone, its supervisor forks
        another."""
        description = await handle.describe()
        [activity] = [
            a
            for a in description.raw_description.pending_activities
            if a.activity_id.startswith(f"{step_id}#")
        ]
        identity = activity.last_worker_identity
        [(process, worker_pid)] = [
            (p, pid)
            for p in self.processes
            for pid in supervised_workers(p.pid)
            if identity.startswith(f"{pid}@")
        ]
        if not with_supervisor:
            os.kill(worker_pid, signal.SIGKILL)
            return identity
        process.kill()
        self.processes.remove(process)
        self._spawn()
        return identity

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.processes.clear()


async def _until_polling(process: WorkerProcess) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WORKER_READY_SECONDS
    while "worker polling" not in process.log():
        if process.exited():
            raise AssertionError(f"a worker process exited:\n{process.log()}")
        if loop.time() > deadline:
            raise TimeoutError(f"a worker process did not poll:\n{process.log()}")
        await asyncio.sleep(0.2)


@dataclass
class Rig:
    """Everything a scenario runs on and every fault it can inject."""

    client: Client
    temporal: FuzzTemporal
    in_process: InProcessWorker
    pool: WorkerPool
