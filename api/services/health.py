"""Whether each part Kasal needs answers: the database, Temporal, and a worker."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.temporal import TemporalGateway
from kasal.settings import Settings


async def check_health(
    engine: AsyncEngine, temporal: TemporalGateway, settings: Settings
) -> dict[str, str]:
    parts = {"database": "ok", "temporal": "ok", "worker": "ok"}
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        parts["database"] = f"unavailable: {type(exc).__name__}"
    try:
        if not await worker_polling(temporal, settings.KASAL_TASK_QUEUE):
            parts["worker"] = f"no worker polls task queue '{settings.KASAL_TASK_QUEUE}'"
    except Exception as exc:
        parts["temporal"] = f"unavailable: {exc}"
        parts["worker"] = "unknown: Temporal is unavailable"
    healthy = all(value == "ok" for value in parts.values())
    return {"status": "ok" if healthy else "unavailable", **parts}


async def worker_polling(temporal: TemporalGateway, task_queue: str) -> bool:
    """Whether any worker polls the task queue now."""
    client = await temporal.client()
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(response.pollers) > 0
