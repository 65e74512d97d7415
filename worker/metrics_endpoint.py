"""The worker's Prometheus endpoint, on KASAL_WORKER_METRICS_PORT of KASAL_HOST: Kasal's
worker metrics (activities/metrics.py), the process's own, and the Temporal SDK's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from prometheus_client import REGISTRY, start_http_server

from kasal.settings import Settings
from worker.sdk_metrics import SdkMetrics

log = logging.getLogger("kasal.worker")


@asynccontextmanager
async def metrics_endpoint(settings: Settings, sdk: SdkMetrics | None) -> AsyncIterator[None]:
    """Serve /metrics while in the block; nothing without ``sdk`` (the port is 0)."""
    if sdk is None:
        yield
        return
    REGISTRY.register(sdk)
    try:
        server, _ = start_http_server(settings.KASAL_WORKER_METRICS_PORT, addr=settings.KASAL_HOST)
    except OSError:
        # Steps matter more than metrics: a port taken stops only the endpoint.
        log.exception("could not serve /metrics on port %s", settings.KASAL_WORKER_METRICS_PORT)
        REGISTRY.unregister(sdk)
        yield
        return
    log.info("metrics at http://%s:%s/metrics", settings.KASAL_HOST, server.server_port)
    drain = asyncio.create_task(sdk.drain_forever())
    try:
        yield
    finally:
        drain.cancel()
        with suppress(asyncio.CancelledError):
            await drain
        server.shutdown()
        server.server_close()
        REGISTRY.unregister(sdk)
