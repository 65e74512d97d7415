"""Whether each part Kasal needs answers: the database, Temporal, and a worker."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.services.runs import RunService


async def check_health(engine: AsyncEngine, runs: RunService) -> dict[str, str]:
    parts = {"database": "ok", "temporal": "ok", "worker": "ok"}
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        parts["database"] = f"unavailable: {type(exc).__name__}"
    try:
        if not await runs.worker_polling():
            parts["worker"] = f"no worker polls task queue '{runs.settings.KASAL_TASK_QUEUE}'"
    except Exception as exc:
        parts["temporal"] = f"unavailable: {exc}"
        parts["worker"] = "unknown: Temporal is unavailable"
    healthy = all(value == "ok" for value in parts.values())
    return {"status": "ok" if healthy else "unavailable", **parts}
