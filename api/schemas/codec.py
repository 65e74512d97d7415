"""The codec-server protocol's body: Temporal's Payloads message in protobuf's JSON form."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CodecPayload(BaseModel):
    # Other Payload fields (externalPayloads) pass through as they came.
    model_config = ConfigDict(extra="allow")

    metadata: dict[str, str] = Field(
        default_factory=dict, description="Each value base64, e.g. `encoding`"
    )
    data: str = Field(default="", description="The payload's bytes, base64")


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload]
