"""A worker interceptor that times task steps and counts the activities in flight, for the
worker's /metrics (activities/metrics.py), around every activity the worker runs."""

from __future__ import annotations

import time
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from activities.metrics import ACTIVITY_SLOTS_USED, STEP_DURATION
from workflows.task_step import RUN_TASK_STEP


class ActivityMetrics(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _MeasuredActivity(next)


class _MeasuredActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # Every activity holds one of the worker's slots, whatever its type.
        ACTIVITY_SLOTS_USED.inc()
        started = time.perf_counter()
        try:
            return await super().execute_activity(input)
        finally:
            ACTIVITY_SLOTS_USED.dec()
            if activity.info().activity_type == RUN_TASK_STEP:
                STEP_DURATION.observe(time.perf_counter() - started)
