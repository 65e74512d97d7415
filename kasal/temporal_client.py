"""One way to reach Temporal, shared by the API, the worker and the CLI.

TLS, mTLS and API keys (Temporal Cloud) come from the names ``temporalio.envconfig``
reads, the same the `temporal` CLI reads: ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS``,
``TEMPORAL_TLS_CLIENT_CERT_PATH``/``_DATA``, ``TEMPORAL_TLS_CLIENT_KEY_PATH``/``_DATA``,
``TEMPORAL_TLS_SERVER_CA_CERT_PATH``/``_DATA``, ``TEMPORAL_TLS_SERVER_NAME``,
``TEMPORAL_GRPC_META_*``, and a profile of the config file (``TEMPORAL_PROFILE``,
``TEMPORAL_CONFIG_FILE``). They apply to an external server only (``TEMPORAL_ADDRESS``):
the dev server Kasal runs itself speaks plain gRPC on loopback, as kasal/temporal_server.py
tells the CLI.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import Runtime

from db.blobs import BlobStore
from db.payload_codec import EncryptionCodec, encryption_codec
from db.payload_store import PayloadStore, payload_data_converter
from kasal.settings import Settings
from kasal.tracing import client_interceptors

log = logging.getLogger("kasal.temporal")
# How long a worker waits for a server that does not answer yet (starting, or restarting
# under an operator's hand) before it gives up and exits for its supervisor to restart.
WAIT_FOR_SERVER_SECONDS = 120.0
FIRST_RETRY_SECONDS = 0.5
LONGEST_RETRY_SECONDS = 5.0


def payload_codec(settings: Settings) -> EncryptionCodec | None:
    """The payload encryption codec the settings ask for; None when encryption is off."""
    key = settings.KASAL_PAYLOAD_ENCRYPTION_KEY
    return encryption_codec(
        key.get_secret_value() if key is not None else None,
        settings.KASAL_PAYLOAD_DECRYPTION_KEYS.get_secret_value(),
    )


def connect_config(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> ClientConnectConfig:
    """``Client.connect`` arguments: the envconfig profile, then Kasal's own settings.

    ``environ`` stands for the process environment (tests pass their own). Kasal's
    ``TEMPORAL_ADDRESS`` and ``TEMPORAL_NAMESPACE`` win where they are set (in a .env
    file too, which envconfig does not read); otherwise the profile's values stand.
    """
    if settings.TEMPORAL_ADDRESS is None:
        # Kasal's own dev server: no TLS, no API key, whatever the environment says.
        return ClientConnectConfig(
            target_host=settings.temporal_address, namespace=settings.TEMPORAL_NAMESPACE
        )
    config = ClientConfigProfile.load(override_env_vars=environ).to_client_connect_config()
    config["target_host"] = settings.TEMPORAL_ADDRESS
    if "TEMPORAL_NAMESPACE" in settings.model_fields_set or "namespace" not in config:
        config["namespace"] = settings.TEMPORAL_NAMESPACE
    return config


async def connect(settings: Settings, blobs: BlobStore, runtime: Runtime | None = None) -> Client:
    """A client whose payloads over 16 KB go to ``blobs`` (db/payload_store.py), encrypted
    first when ``KASAL_PAYLOAD_ENCRYPTION_KEY`` is set (db/payload_codec.py). Its SDK
    metrics go to ``runtime`` (the worker's: worker/sdk_metrics.py); by default to the
    SDK's own runtime, which keeps none.

    The worker and the API pass the store over the same database, so that each reads
    what the other wrote. With tracing on (kasal/tracing.py) the client, and a worker
    built on it, carry the trace from the API's request into the workflow and its steps.
    """
    return await Client.connect(
        **connect_config(settings),
        data_converter=payload_data_converter(PayloadStore(blobs), payload_codec(settings)),
        runtime=runtime,
        interceptors=client_interceptors(),
    )


async def connect_when_up(
    settings: Settings,
    blobs: BlobStore,
    runtime: Runtime | None = None,
    patience: float = WAIT_FOR_SERVER_SECONDS,
) -> Client:
    """``connect``, tried again with a growing pause while the server does not answer,
    for up to ``patience`` seconds: a worker started beside a server that is starting,
    or restarting, waits for it instead of exiting."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    pause = FIRST_RETRY_SECONDS
    while True:
        try:
            return await connect(settings, blobs, runtime)
        except RuntimeError as failure:  # the SDK's bridge: "Failed client connect: …"
            if loop.time() + pause > deadline:
                raise
            log.warning(
                "Temporal at %s does not answer (%s); trying again in %.1f s",
                settings.temporal_address,
                failure,
                pause,
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_RETRY_SECONDS)
