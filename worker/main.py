"""The Kasal worker: runs AgentWorkflow and the task-step activity on one task queue, and
the scheduled blob retention."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.worker import FixedSizeSlotSupplier, Worker, WorkerTuner

from activities.approver_email import ApproverMailer, SmtpSettings
from activities.crew_runtime import CrewRuntime
from activities.db_model_registry import DatabaseModelRegistry
from activities.generation import (
    DatabaseCatalogue,
    GenerationActivities,
    RegistryCatalogue,
    WorkspaceCatalogue,
)
from activities.map_results import MapResultsActivities
from activities.model_registry import ModelRegistry
from activities.retention import BlobRetentionActivities
from activities.scheduled_runs import ScheduledRunActivities
from activities.task_step import TaskStepActivities
from activities.tools.fetch import FetchPolicy
from activities.tools.mcp_probe import McpProbeActivities
from activities.tools.sql import SqlTool
from activities.tools.toolbox import NO_TOOL_SECRETS, ToolEnvironment
from activities.webhook import WebhookSender
from db.blob_cipher import BlobCipher
from db.blobs import BlobStore
from db.call_journal import CallJournal
from db.secrets import SecretBox, SecretKeyMissing, load_secret_box
from db.session import create_engine, session_factory
from db.tool_secrets import ToolSecretStore
from kasal.settings import Settings, get_settings
from kasal.temporal_client import connect_when_up
from kasal.tracing import install_tracing
from worker.activity_metrics import ActivityMetrics
from worker.metrics_endpoint import metrics_endpoint
from worker.schedules import ensure_blob_retention_schedule
from worker.sdk_metrics import SdkMetrics
from worker.step_slots import LoopPacedSlots
from worker.supervisor import become_supervised_worker, can_supervise
from workflows.egress import EgressPolicy
from workflows.registry import WORKFLOWS, workflow_runner
from workflows.task_activity import FAST_HEARTBEAT_TIMEOUT

log = logging.getLogger("kasal.worker")
# The SDK sends a step's heartbeats to the server at most once per flush interval (and
# 0.8 of its timeout). A step hands one over every half timeout (activities/heartbeat.py),
# so this only has to let the short timeout's through: each is sent when handed over,
# and the server hears a step every 4 s (8 s timeout) or 10 s (20 s). Every step of a
# run heartbeats into the same workflow, which the server updates one heartbeat at a
# time (100-150 a second on this loaded 2-core machine): 1,000 steps of one run make 100
# a second, with 10 s to spare. A cancel, answered with a heartbeat, arrives as soon.
HEARTBEAT_FLUSH_INTERVAL = FAST_HEARTBEAT_TIMEOUT / 2
# A workflow task goes first to the queue of the worker that ran the workflow last. If that
# worker died, the server moves the task to the shared queue after this long (10 s by
# default), unless the worker's last poll is ~10 s old. A step retried because its worker
# went silent resets the run's sticky queue (activities/silent_worker.py), so its run does
# not wait; this bounds the wait for other tasks. A live worker's core picks its tasks up
# in milliseconds, GIL or no GIL.
STICKY_QUEUE_SCHEDULE_TO_START = timedelta(seconds=3)
# The SDK's own number of workflow task slots, kept when a tuner replaces its defaults.
DEFAULT_SLOTS = 100


def freeze_startup_heap() -> None:
    """Keep the objects alive at start-up (CrewAI's and litellm's modules: ~600,000) out of
    every later garbage collection.

    A full collection holds the GIL, and with it every thread of the worker, for as long as
    it walks the heap; the worker's loop sends no heartbeat meanwhile. With the imports in
    the heap, collections during a burst of step starts took 1-2 s at 500 steps (more on a
    loaded machine); without them, under 0.6 s. Call once, after imports, before polling.
    """
    gc.collect()
    gc.freeze()


def build_worker(
    client: Client,
    task_queue: str,
    models: ModelRegistry,
    blobs: BlobStore,
    max_concurrent_activities: int,
    graceful_shutdown_timeout: timedelta = timedelta(0),
    *,
    tools: ToolEnvironment | None = None,
    secrets: SecretBox | None = None,
    mailer: ApproverMailer | None = None,
    catalogue: WorkspaceCatalogue | None = None,
    scheduled_runs: ScheduledRunActivities | None = None,
) -> Worker:
    """A worker for Kasal's task queue.

    ``graceful_shutdown_timeout`` is how long shutting it down waits for the steps in
    flight to finish and report; none by default, as in the SDK. ``tools`` is what the
    agents' tools need (secrets, the fetch policy, the SQL tool's database); by default,
    built-in tools only, and HTTP tools and MCP servers without their secret headers.
    ``secrets`` (the instance key) signs webhooks; without it they go unsigned.
    ``mailer`` emails approvers; without it no email is sent. ``catalogue`` is what
    generated definitions are compiled against; by default the model registry's names
    and no user tools. ``scheduled_runs`` compiles what schedules start (it reads the
    database); a worker without it leaves that to others on its queue.
    """
    crew = CrewRuntime.for_steps(max_concurrent_activities)
    tools = tools or ToolEnvironment(blobs, NO_TOOL_SECRETS)
    journal = CallJournal(blobs)
    schedules = [scheduled_runs.compile_scheduled_run] if scheduled_runs else []
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            TaskStepActivities(models, blobs, crew, journal, tools).run_task_step,
            MapResultsActivities(blobs).store_map_results,
            WebhookSender(tools.egress, secrets).send_webhook,
            (mailer or ApproverMailer(None, None)).send_approver_email,
            BlobRetentionActivities(client, blobs).delete_blobs_of_runs_gone,
            McpProbeActivities(tools.secrets, tools.allow_stdio_mcp, tools.egress).probe_mcp_server,
            GenerationActivities(
                models, catalogue or RegistryCatalogue(models), tools.egress
            ).propose_definition,
            *schedules,
        ],
        workflow_runner=workflow_runner(),
        # Step durations and activities in flight, for /metrics (never in workflow code).
        interceptors=[ActivityMetrics()],
        tuner=step_tuner(max_concurrent_activities, crew.loop),
        # No pacing of step starts: the tuner takes a step only while the loops keep up,
        # and a fixed rate (it was 20 a second) spaced even one run's chain of quick
        # steps. What starved heartbeats in a burst of starts was the garbage collector
        # (freeze_startup_heap) and steps heartbeating in the same instant
        # (activities/heartbeat.py), not the number of starts.
        max_heartbeat_throttle_interval=HEARTBEAT_FLUSH_INTERVAL,
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_SCHEDULE_TO_START,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
    )


def step_tuner(max_concurrent_activities: int, crew_loop: asyncio.AbstractEventLoop) -> WorkerTuner:
    """The SDK's fixed slots (its defaults) for all but steps, which take what the worker's
    loop and CrewAI's keep up with (worker/step_slots.py), up to
    ``max_concurrent_activities``."""
    return WorkerTuner.create_composite(
        workflow_supplier=FixedSizeSlotSupplier(DEFAULT_SLOTS),
        activity_supplier=LoopPacedSlots(max_concurrent_activities, [crew_loop]),
        local_activity_supplier=FixedSizeSlotSupplier(DEFAULT_SLOTS),
        nexus_supplier=FixedSizeSlotSupplier(DEFAULT_SLOTS),
    )


def tool_environment(
    settings: Settings, sessions: async_sessionmaker[Any], secrets: SecretBox, blobs: BlobStore
) -> ToolEnvironment:
    """What the agents' tools need on this worker, from the settings and the database."""
    return ToolEnvironment(
        blobs,
        ToolSecretStore(sessions, secrets),
        FetchPolicy.parse(settings.KASAL_FETCH_ALLOW),
        SqlTool(settings.KASAL_SQL_TOOL_DATABASE_URL, settings.database_url),
        allow_stdio_mcp=settings.KASAL_ALLOW_STDIO_MCP,
        egress=EgressPolicy.parse(settings.KASAL_EGRESS_DENY, settings.KASAL_EGRESS_ALLOW),
    )


async def run(settings: Settings) -> None:
    install_tracing("kasal-worker")  # before the engine, so that its queries are traced
    # Refuse to start without the key that decrypts stored API keys.
    secrets = load_secret_box(settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=False)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    blobs = BlobStore(sessions, BlobCipher.of(secrets))
    sdk_metrics = SdkMetrics() if settings.KASAL_WORKER_METRICS_PORT else None
    client = await connect_when_up(settings, blobs, sdk_metrics.runtime if sdk_metrics else None)
    worker = build_worker(
        client,
        settings.KASAL_TASK_QUEUE,
        DatabaseModelRegistry(sessions, secrets),
        blobs,
        settings.KASAL_MAX_CONCURRENT_ACTIVITIES,
        timedelta(seconds=settings.KASAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS),
        tools=tool_environment(settings, sessions, secrets, blobs),
        secrets=secrets,
        mailer=ApproverMailer(SmtpSettings.from_settings(settings), sessions),
        catalogue=DatabaseCatalogue(sessions, secrets),
        scheduled_runs=ScheduledRunActivities(sessions, secrets, settings),
    )
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with worker, metrics_endpoint(settings, sdk_metrics):
        await _schedule_blob_retention(client, settings)
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


async def _schedule_blob_retention(client: Client, settings: Settings) -> None:
    """Here, once a process, not in build_worker: tests build many workers."""
    try:
        await ensure_blob_retention_schedule(client, settings)
    except Exception:
        # Steps matter more than retention: run them, and try again at the next start.
        log.exception("could not make sure of the blob retention schedule")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # litellm logs every call at INFO, twice (through its own handler and ours): four lines
    # a step. Each step's transcript already records its calls.
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)
    settings = get_settings()
    if settings.KASAL_WORKER_SUPERVISOR and can_supervise():
        freeze_startup_heap()  # before the fork, so the worker shares these pages
        become_supervised_worker()
    try:
        asyncio.run(run(settings))
    except SecretKeyMissing as exc:
        raise SystemExit(f"kasal worker: {exc}") from None
