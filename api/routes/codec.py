"""The codec server Temporal Web and the `temporal` CLI call (api/services/codec.py).

Temporal Web calls it from the browser, at its own origin: these two paths, and only
these, answer CORS with credentials for ``settings.temporal_ui_url`` (:class:`CodecCors`),
preflight included. They are exempt from any Origin check of cookie sessions for that
reason; what guards them is the admin role.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.authorization import CodecAdmin
from api.deps import BlobsDep, SettingsDep
from api.schemas.codec import CodecPayload, CodecPayloads
from api.schemas.errors import error_responses
from api.services.codec import CodecService, payloads_from_json, payloads_to_json
from db.payload_codec import EncryptionCodec, encryption_codec
from db.payload_store import PayloadStore

# admin-only: wired by the auth dependency. Decoding reveals every run's inputs and
# outputs, whichever workspace they belong to.
router = APIRouter(prefix="/codec", tags=["codec"])

CODEC_PATHS = ("/codec/decode", "/codec/encode")
_PREFLIGHT_MAX_AGE = "600"


@lru_cache(maxsize=4)
def _codec(key: str | None, old_keys: str) -> EncryptionCodec | None:
    """Keys parsed once per configuration, not per request."""
    return encryption_codec(key, old_keys)


async def get_codec_service(settings: SettingsDep, blobs: BlobsDep) -> CodecService:
    key = settings.KASAL_PAYLOAD_ENCRYPTION_KEY
    codec = _codec(
        key.get_secret_value() if key is not None else None,
        settings.KASAL_PAYLOAD_DECRYPTION_KEYS.get_secret_value(),
    )
    return CodecService(codec, PayloadStore(blobs))


CodecServiceDep = Annotated[CodecService, Depends(get_codec_service)]
NamespaceHeader = Annotated[
    str | None, Header(alias="X-Namespace", description="The payloads' Temporal namespace")
]


def _answer(payloads: list[dict[str, object]]) -> CodecPayloads:
    return CodecPayloads(payloads=[CodecPayload.model_validate(p) for p in payloads])


@router.post("/decode", response_model=CodecPayloads, responses=error_responses(400, 503))
async def decode(
    _: CodecAdmin,
    body: CodecPayloads,
    service: CodecServiceDep,
    x_namespace: NamespaceHeader = None,
) -> CodecPayloads:
    """Decrypt payloads for Temporal Web or `temporal --codec-endpoint`; references to the
    blob store are fetched first. Payloads that are not encrypted come back as sent.

    400 for a payload that is not protobuf JSON, or one encrypted with a key this
    deployment does not have.
    """
    # One namespace's keys serve every namespace: X-Namespace is accepted, not needed.
    del x_namespace
    items = [item.model_dump() for item in body.payloads]
    return _answer(payloads_to_json(await service.decode(payloads_from_json(items))))


@router.post("/encode", response_model=CodecPayloads, responses=error_responses(400))
async def encode(
    _: CodecAdmin,
    body: CodecPayloads,
    service: CodecServiceDep,
    x_namespace: NamespaceHeader = None,
) -> CodecPayloads:
    """Encrypt payloads a viewer sends (a signal's, a workflow's input); as sent when
    payload encryption is off."""
    del x_namespace
    items = [item.model_dump() for item in body.payloads]
    return _answer(payloads_to_json(await service.encode(payloads_from_json(items))))


class CodecCors:
    """CORS with credentials for Temporal Web's origin, on the codec paths only.

    Outermost, so that it answers the preflight before anything that would refuse an
    OPTIONS (api/errors.py's 405) or ask it for credentials, which a browser never sends
    on a preflight.
    """

    def __init__(self, app: ASGIApp, *, origin: str, paths: tuple[str, ...]) -> None:
        self.app = app
        self.origin = origin
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = headers.get("origin") == self.origin
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(allowed, headers)(scope, receive, send)
            return
        if not allowed:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = self.origin
                answer["Access-Control-Allow-Credentials"] = "true"
                answer.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, allowed: bool, headers: Headers) -> Response:
        if not allowed:
            # No CORS headers: the browser refuses the call.
            return Response(status_code=403, headers={"Vary": "Origin"})
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": self.origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                # Whatever Temporal Web asks for (X-Namespace, Content-Type, Authorization).
                "Access-Control-Allow-Headers": headers.get(
                    "access-control-request-headers", "Content-Type, X-Namespace"
                ),
                "Access-Control-Max-Age": _PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )
