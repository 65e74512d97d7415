"""The Kasal worker: runs AgentWorkflow and the task-step activity on one task queue."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.crew_runtime import CrewRuntime
from activities.db_model_registry import DatabaseModelRegistry
from activities.model_registry import ModelRegistry
from activities.task_step import TaskStepActivities
from activities.webhook import send_webhook
from db.blobs import BlobStore
from db.secrets import SecretKeyMissing, load_secret_box
from db.session import create_engine, session_factory
from kasal.settings import Settings, get_settings
from kasal.temporal_client import connect
from workflows.registry import WORKFLOWS, workflow_runner

log = logging.getLogger("kasal.worker")
MAX_STEP_STARTS_PER_SECOND = 20
# The SDK sends a step's heartbeats to the server every min(0.8 * heartbeat timeout, this).
# With the 20 s timeout alone that is every 16 s, leaving 4 s to spare on a loaded server;
# 10 s leaves 10, and a cancel reaches a running step sooner. Each step in flight costs the
# server one heartbeat call per interval.
HEARTBEAT_FLUSH_INTERVAL = timedelta(seconds=10)


def build_worker(
    client: Client,
    task_queue: str,
    models: ModelRegistry,
    blobs: BlobStore,
    max_concurrent_activities: int,
    graceful_shutdown_timeout: timedelta = timedelta(0),
) -> Worker:
    """A worker for Kasal's task queue.

    ``graceful_shutdown_timeout`` is how long shutting it down waits for the steps in
    flight to finish and report; none by default, as in the SDK.
    """
    crew = CrewRuntime.for_steps(max_concurrent_activities)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[TaskStepActivities(models, blobs, crew).run_task_step, send_webhook],
        workflow_runner=workflow_runner(),
        max_concurrent_activities=max_concurrent_activities,
        # Starting a step costs CrewAI ~0.1 s of CPU: a burst of a thousand at once would
        # starve the heartbeats of the steps already running. Starts are paced instead.
        max_activities_per_second=MAX_STEP_STARTS_PER_SECOND,
        max_heartbeat_throttle_interval=HEARTBEAT_FLUSH_INTERVAL,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
    )


async def run(settings: Settings) -> None:
    # Refuse to start without the key that decrypts stored API keys.
    secrets = load_secret_box(settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=False)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    blobs = BlobStore(sessions)
    client = await connect(settings, blobs)
    worker = build_worker(
        client,
        settings.KASAL_TASK_QUEUE,
        DatabaseModelRegistry(sessions, secrets),
        blobs,
        settings.KASAL_MAX_CONCURRENT_ACTIVITIES,
        timedelta(seconds=settings.KASAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info(
            "worker polling %s on %s (namespace %s)",
            settings.KASAL_TASK_QUEUE,
            settings.temporal_address,
            settings.TEMPORAL_NAMESPACE,
        )
        await stop.wait()
        # Leaving the block calls worker.shutdown(): polling stops at once, and steps in
        # flight get the grace period to finish and report, so none waits out its
        # heartbeat timeout to be retried elsewhere.
        log.info(
            "shutting down: steps in flight have %s s to finish",
            settings.KASAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS,
        )
    log.info("worker stopped")
    await engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # litellm logs every call at INFO, twice (through its own handler and ours): four lines
    # a step. Each step's transcript already records its calls.
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    try:
        asyncio.run(run(get_settings()))
    except SecretKeyMissing as exc:
        raise SystemExit(f"kasal worker: {exc}") from None
