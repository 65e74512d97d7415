"""A bench worker in its own process, so the recovery bench can SIGKILL it.

Usage: python -m bench.worker_process TEMPORAL_ADDRESS TASK_QUEUE STUB_URL DATABASE_URL

As `python -m worker` does, the process supervises and the worker is its child, forked
again when it is killed (worker/supervisor.py). Each worker prints READY and its pid.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bench.harness import quiet_crewai

quiet_crewai()

from pydantic import SecretStr  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402

from activities.model_registry import ModelConfig, StaticModelRegistry  # noqa: E402
from db.blobs import BlobStore  # noqa: E402
from db.session import create_engine, session_factory  # noqa: E402
from worker.main import build_worker, freeze_startup_heap  # noqa: E402
from worker.supervisor import become_supervised_worker  # noqa: E402

READY = "worker polling"


async def main(address: str, task_queue: str, stub_url: str, database_url: str) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    models = StaticModelRegistry(
        {
            "stub": ModelConfig(
                name="stub", model="openai/stub", api_base=stub_url, api_key=SecretStr("k")
            )
        }
    )
    blobs = BlobStore(session_factory(create_engine(database_url)))
    worker = build_worker(client, task_queue, models, blobs, 100)
    freeze_startup_heap()  # as `python -m worker` does
    async with worker:
        print(READY, os.getpid(), flush=True)  # the recovery bench waits for this line
        await asyncio.Event().wait()


if __name__ == "__main__":
    freeze_startup_heap()
    become_supervised_worker()
    asyncio.run(main(*sys.argv[1:5]))
