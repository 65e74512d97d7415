"""The API's connection to Temporal, made on first use and kept.

The API starts even when Temporal is down: requests that need it answer 503, and
/healthz says which part is missing.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from api.errors import Unavailable
from db.blobs import BlobStore
from kasal.settings import Settings
from kasal.temporal_client import connect


class TemporalGateway:
    def __init__(self, settings: Settings, blobs: BlobStore) -> None:
        self._settings = settings
        # Payloads over 16 KB travel through the blob store, as in the worker.
        self._blobs = blobs
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect(self._settings, self._blobs)
                    except RuntimeError as exc:
                        raise Unavailable(
                            f"Temporal is not reachable at {self._settings.temporal_address}: {exc}"
                        ) from None
        return self._client
