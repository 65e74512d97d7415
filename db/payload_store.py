"""The payload budget: every Temporal payload over 16 KB lives in the blob store.

Why. Temporal refuses a payload over 2 MB, a history grows toward its 50 MB limit with
every large payload, and a recovery replays the whole history. Step outputs and
transcripts already travel by explicit reference (``output_ref``/``transcript_ref``);
this is the net beneath them, for whatever else grows: a plan with long descriptions in
the workflow input, the status query of a run with many steps, an update's result, a
failure's details, the state carried into continue-as-new.

How. The SDK's external storage (``DataConverter(external_storage=...)``, experimental
in temporalio 1.35) calls a driver for every payload at or over the threshold, wherever
it travels (client, workflow commands and activations, activities, queries, updates,
failures), and puts a small reference payload in its place. :class:`PayloadStore` is
that driver, over Kasal's ``blobs`` table (kind ``payload``, bytes in ``data``).

- **Content-addressed within a run.** A blob's id is the first 128 bits of
  sha256(workflow id, sha256(payload bytes)); the claim also carries the payload's full
  sha256, checked on every read. Storing the same payload again (a status query asked
  twice) writes nothing: the id is already known in-process or the insert is ON
  CONFLICT DO NOTHING. The workflow id is part of the key, and is recorded as the
  blob's ``run_id``, so that one run's blobs are never shared with another: retention
  can delete a run's blobs without looking at any other run.
- **Cached.** Payloads stored or read are kept in a bounded in-process LRU (by bytes),
  as a recovery or a query re-reads the same ones again and again.
- **Retention.** A run's payload blobs go with its other blobs once Temporal has
  dropped the run, after ``KASAL_RUN_RETENTION_DAYS``; never while a run is open
  (db/retention.py).
- **Self-contained histories.** :func:`inline_history` swaps the references in a
  history for the payloads they stand for, so recorded histories (tests/histories/)
  replay without the store.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import ExternalStorageReference
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    ExternalStorage,
    JSONProtoPayloadConverter,
    PayloadCodec,
    StorageDriver,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
)

from db.blobs import BlobStore

PAYLOAD_BUDGET_BYTES = 16 * 1024
"""Payloads of this size or more go to the blob store; smaller ones stay inline."""
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
DRIVER_NAME = "kasal-blobs"
# How a reference payload's messageType reads in a history's JSON (bytes are base64).
_REFERENCE_TYPE_B64 = base64.b64encode(
    ExternalStorageReference.DESCRIPTOR.full_name.encode()
).decode()


class PayloadMissing(LookupError):
    """A payload's blob is gone from this store (or altered): the run cannot be read here."""


class _ByteLRU:
    """An LRU of payload bytes, bounded by their total size."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[uuid.UUID, bytes] = OrderedDict()
        self._bytes = 0

    def get(self, key: uuid.UUID) -> bytes | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: uuid.UUID, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._entries[key] = value
        self._bytes += len(value)
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __contains__(self, key: uuid.UUID) -> bool:
        return key in self._entries


def _run_of(context: StorageDriverStoreContext) -> str:
    """The workflow id a payload is stored for: the run it belongs to, for retention.

    The SDK names the workflow for everything a workflow sends or receives, its
    activities' inputs and results included; "" only for payloads without one (e.g.
    a standalone activity), which retention then never deletes.
    """
    target = context.target
    if isinstance(target, StorageDriverWorkflowInfo) and target.id:
        return target.id
    return ""


def blob_id_of(run_id: str, digest: bytes) -> uuid.UUID:
    """The content address of a payload (its sha256 ``digest``) within a run."""
    return uuid.UUID(bytes=hashlib.sha256(run_id.encode() + b"\0" + digest).digest()[:16])


class PayloadStore(StorageDriver):
    """Temporal's external storage driver over Kasal's blob store."""

    def __init__(self, blobs: BlobStore, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.blobs = blobs
        self.cache = _ByteLRU(cache_bytes)

    def name(self) -> str:
        return DRIVER_NAME

    async def store(
        self, context: StorageDriverStoreContext, payloads: Sequence[Payload]
    ) -> list[StorageDriverClaim]:
        run_id = _run_of(context)
        claims = []
        for payload in payloads:
            # Deterministic: map fields (the metadata) in one order, so equal payloads
            # have equal bytes, and so one address.
            data = payload.SerializeToString(deterministic=True)
            digest = hashlib.sha256(data).digest()
            blob_id = blob_id_of(run_id, digest)
            if blob_id not in self.cache:
                await self.blobs.put_payload(blob_id=blob_id, run_id=run_id, data=data)
                self.cache.put(blob_id, data)
            claims.append(
                StorageDriverClaim(claim_data={"id": str(blob_id), "sha256": digest.hex()})
            )
        return claims

    async def retrieve(
        self, context: StorageDriverRetrieveContext, claims: Sequence[StorageDriverClaim]
    ) -> list[Payload]:
        ids = [uuid.UUID(claim.claim_data["id"]) for claim in claims]
        found = {blob_id: data for blob_id in ids if (data := self.cache.get(blob_id))}
        missing = [blob_id for blob_id in ids if blob_id not in found]
        if missing:
            found.update(await self.blobs.get_payloads(missing))
        payloads = []
        for blob_id, claim in zip(ids, claims, strict=True):
            data = found.get(blob_id)
            if data is None:
                raise PayloadMissing(f"payload blob {blob_id} is not in the blob store")
            if hashlib.sha256(data).hexdigest() != claim.claim_data["sha256"]:
                raise PayloadMissing(f"payload blob {blob_id} does not match its sha256")
            self.cache.put(blob_id, data)
            payload = Payload()
            payload.ParseFromString(data)
            payloads.append(payload)
        return payloads


def payload_data_converter(store: PayloadStore, codec: PayloadCodec | None = None) -> DataConverter:
    """Kasal's data converter: pydantic payloads, and the blob store past the budget.

    With ``codec`` (db/payload_codec.py) payloads are encrypted; the SDK encodes before
    it stores externally, so the blobs hold ciphertext too. Failures' messages and stack
    traces then travel as an encoded payload, since they often quote user content.
    """
    converter = dataclasses.replace(
        pydantic_data_converter,
        external_storage=ExternalStorage(
            drivers=[store], payload_size_threshold=PAYLOAD_BUDGET_BYTES
        ),
    )
    if codec is None:
        return converter
    return dataclasses.replace(
        converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def payload_store_of(converter: DataConverter) -> PayloadStore:
    """The store behind a converter made by :func:`payload_data_converter`."""
    storage = converter.external_storage
    if storage is None or not isinstance(storage.drivers[0], PayloadStore):
        raise ValueError("this data converter has no Kasal payload store")
    return storage.drivers[0]


def _reference_of(payload: dict[str, Any]) -> dict[str, str] | None:
    """The claim of a reference payload, in a history's JSON form; None for others."""
    metadata = payload.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("messageType") != _REFERENCE_TYPE_B64:
        return None
    parsed = json_format.ParseDict(payload, Payload(), ignore_unknown_fields=True)
    reference = JSONProtoPayloadConverter().from_payload(parsed, ExternalStorageReference)
    if reference.driver_name != DRIVER_NAME:
        raise ValueError(f"a reference to another store: {reference.driver_name}")
    return dict(reference.claim_data)


async def inline_history(history: WorkflowHistory, store: PayloadStore) -> WorkflowHistory:
    """The history with every reference to the store replaced by its payload.

    Recorded histories must replay without the store (it is not checked in): this is
    what is written to tests/histories/.
    """

    async def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [await inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        claim = _reference_of(node)
        if claim is not None:
            [payload] = await store.retrieve(
                StorageDriverRetrieveContext(), [StorageDriverClaim(claim_data=claim)]
            )
            return json_format.MessageToDict(payload)
        return {key: await inline(value) for key, value in node.items()}

    inlined = await inline(json.loads(history.to_json()))
    return WorkflowHistory.from_json(history.workflow_id, inlined)
