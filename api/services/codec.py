"""The codec server: Temporal Web and the `temporal` CLI decode payloads through Kasal.

With payload encryption on (db/payload_codec.py), Temporal's history holds ciphertext,
and only Kasal has the keys. Temporal's codec-server protocol lets a viewer send the
payloads it shows to ``{endpoint}/decode`` (and values it sends to ``/encode``) as
Payloads in protobuf's JSON form (``{"payloads": [{"metadata": {k: base64}, "data":
base64}]}``), with the namespace in ``X-Namespace``.

Decoding also follows the claim-check: a reference to the blob store (a payload over
16 KB, db/payload_store.py) is replaced by the payload it stands for, decrypted, so that
a viewer sees the value and not a blob id. Encoding only encrypts: what a viewer sends
(a signal, a workflow's input) is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import ExternalStorageReference
from temporalio.converter import (
    JSONProtoPayloadConverter,
    StorageDriverClaim,
    StorageDriverRetrieveContext,
)

from api.errors import BadRequest
from db.payload_codec import EncryptionCodec, UnknownPayloadKey
from db.payload_store import DRIVER_NAME, PayloadStore

_REFERENCE_TYPE = ExternalStorageReference.DESCRIPTOR.full_name.encode()


def payloads_from_json(items: Sequence[dict[str, Any]]) -> list[Payload]:
    """Payloads from their protobuf JSON form; a malformed one is the caller's error."""
    payloads = []
    for index, item in enumerate(items):
        try:
            payloads.append(json_format.ParseDict(item, Payload(), ignore_unknown_fields=True))
        except json_format.ParseError as err:
            raise BadRequest(
                f"payloads[{index}] is not a Payload in protobuf JSON: {err}"
            ) from None
    return payloads


def payloads_to_json(payloads: Sequence[Payload]) -> list[dict[str, Any]]:
    return [json_format.MessageToDict(payload) for payload in payloads]


def _claim_of(payload: Payload) -> StorageDriverClaim | None:
    """The claim of a reference into Kasal's blob store; None for any other payload."""
    if payload.metadata.get("messageType") != _REFERENCE_TYPE:
        return None
    try:
        reference = JSONProtoPayloadConverter().from_payload(payload, ExternalStorageReference)
    except Exception:
        return None
    if reference.driver_name != DRIVER_NAME:
        return None
    return StorageDriverClaim(claim_data=dict(reference.claim_data))


class CodecService:
    """Encode and decode for viewers, with the keys and blob store this API has."""

    def __init__(self, codec: EncryptionCodec | None, store: PayloadStore) -> None:
        self._codec = codec
        self._store = store

    async def encode(self, payloads: list[Payload]) -> list[Payload]:
        if self._codec is None:
            return payloads
        return await self._codec.encode(payloads)

    async def decode(self, payloads: list[Payload]) -> list[Payload]:
        # Past the budget, a payload was encrypted first and then stored (the SDK's
        # order): fetch it back, then decrypt it with the rest.
        resolved = []
        for payload in payloads:
            claim = _claim_of(payload)
            if claim is None:
                resolved.append(payload)
            else:
                [stored] = await self._store.retrieve(StorageDriverRetrieveContext(), [claim])
                resolved.append(stored)
        if self._codec is None:
            return resolved
        try:
            return await self._codec.decode(resolved)
        except UnknownPayloadKey as err:
            raise BadRequest(str(err)) from None
