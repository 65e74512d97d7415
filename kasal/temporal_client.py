"""One way to reach Temporal, shared by the API, the worker and the CLI."""

from __future__ import annotations

from temporalio.client import Client

from db.blobs import BlobStore
from db.payload_store import PayloadStore, payload_data_converter
from kasal.settings import Settings


async def connect(settings: Settings, blobs: BlobStore) -> Client:
    """A client whose payloads over 16 KB go to ``blobs`` (db/payload_store.py).

    The worker and the API pass the store over the same database, so that each reads
    what the other wrote.
    """
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.TEMPORAL_NAMESPACE,
        data_converter=payload_data_converter(PayloadStore(blobs)),
    )
