"""GET /metrics: Prometheus' text format, without sign-in like /healthz (README, Metrics)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import Response
from temporalio.service import RPCError

from api.deps import MetricsDep, SettingsDep, TemporalDep
from api.errors import Unavailable
from api.metrics import CONTENT_TYPE, RunCounts
from api.services.run_counts import count_runs

router = APIRouter(tags=["metrics"])
log = logging.getLogger("kasal.api")


# Not in the OpenAPI document: it is for Prometheus, not for the API's clients.
@router.get("/metrics", include_in_schema=False)
async def metrics(metrics: MetricsDep, temporal: TemporalDep, settings: SettingsDep) -> Response:
    runs: RunCounts | None = None
    try:
        runs = await count_runs(await temporal.client(), settings.KASAL_TASK_QUEUE)
    except (Unavailable, RPCError) as exc:
        # The process's own metrics still answer; the run counts come back with Temporal.
        log.warning("/metrics without run counts: %s", exc)
    return Response(metrics.render(runs), media_type=CONTENT_TYPE)
