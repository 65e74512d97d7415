"""Payload encryption (db/payload_codec.py), end to end: with KASAL_PAYLOAD_ENCRYPTION_KEY
set, a run's input, its step's output and its failure's message are found nowhere in the
Temporal dev server's database file, nor in the payload blobs of the claim-check; the
API, the worker, and Temporal Web through the codec server still read them."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from pydantic import SecretStr
from sqlalchemy import select
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.services.failure_messages import decode_event_failures
from db.blob_cipher import BYTES_MARK, BlobCipher, open_bytes
from db.blobs import BlobStore
from db.models import Blob
from db.payload_codec import (
    ENCODING,
    EncryptionCodec,
    UnknownPayloadKey,
    encryption_codec,
    key_id,
)
from db.payload_store import PAYLOAD_BUDGET_BYTES, PayloadStore, payload_data_converter
from db.secrets import load_secret_box
from db.session import create_engine, session_factory
from kasal.binaries import temporal_cli
from kasal.settings import Settings
from kasal.temporal_client import payload_codec
from tests.api_stack import ADMIN_EMAIL, ApiServer, ApiStack, bearer, issue_token, stack_settings
from tests.conftest import STUB_API_KEY, STUB_MODEL
from tests.helpers import agent, fast_retry, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from workflows.roles import Role
from workflows.search_attributes import ALL_KEYS

KEY = os.urandom(32)
OLD_KEY = os.urandom(32)
SECRET_INPUT = f"tidal-input-{uuid.uuid4().hex}"
SECRET_OUTPUT = f"moon-output-{uuid.uuid4().hex}"
SECRET_FAILURE = f"failure-detail-{uuid.uuid4().hex}"
# The plan carries the step's description, the input in it: past the budget, the run's
# input travels to the blob store, so the claim-check path is exercised too.
PADDING = "Be thorough. " * (PAYLOAD_BUDGET_BYTES // 12)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: its file is read raw below."""
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


@dataclass
class EncryptedStack:
    api: ApiStack
    temporal: WorkflowEnvironment
    temporal_db: Path
    blobs: BlobStore


@pytest.fixture
async def encrypted(
    tmp_path: Path, database_url: str, stub_llm: StubLLM
) -> AsyncIterator[EncryptedStack]:
    """The API and a worker with encryption on, on a dev server whose database is a file."""
    temporal_db = tmp_path / "temporal.db"
    temporal = await WorkflowEnvironment.start_local(
        dev_server_database_filename=str(temporal_db),
        dev_server_existing_path=str(temporal_cli()),
        search_attributes=ALL_KEYS,
    )
    settings = stack_settings(temporal, tmp_path / "data", database_url).model_copy(
        update={
            "KASAL_PAYLOAD_ENCRYPTION_KEY": SecretStr(b64(KEY)),
            "KASAL_PAYLOAD_DECRYPTION_KEYS": SecretStr(b64(OLD_KEY)),
        }
    )
    server = ApiServer(settings)
    await server.start()
    engine = create_engine(database_url)
    secrets = load_secret_box(settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=False)
    blobs = BlobStore(session_factory(engine), BlobCipher.of(secrets))
    # The worker's client, as `kasal worker` makes it (kasal/temporal_client.py).
    converter = payload_data_converter(PayloadStore(blobs), payload_codec(settings))
    client = Client(**{**temporal.client.config(), "data_converter": converter})
    # An admin's API token: the codec server is admin-only.
    token = await issue_token(settings, ADMIN_EMAIL, Role.ADMIN)
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", timeout=30, headers=bearer(token)
    ) as http:
        api = ApiStack(settings=settings, server=server, http=http, env=WorkflowEnvironment(client))
        model = {
            "name": STUB_MODEL,
            "model": "openai/stub-model",
            "api_base": stub_llm.url,
            "api_key": STUB_API_KEY,
        }
        (await http.post("/models", json=model)).raise_for_status()
        await api.start_worker()
        try:
            yield EncryptedStack(api, temporal, temporal_db, blobs)
        finally:
            await api.stop_worker()
            await api.server.stop()
            await temporal.shutdown()
            await engine.dispose()


SPEC: dict[str, Any] = {
    "inputs": [{"name": "topic"}],
    "agents": [agent()],
    "steps": [
        task("a", description=f"STEP-A: research {{topic}}. {PADDING}"),
        task("b", after=["a"], retry=fast_retry(1)),
    ],
}


def raw_bytes(path: Path) -> bytes:
    """The database file and its journal files, as they lie on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def payload_blobs(blobs: BlobStore, run_id: str) -> list[bytes]:
    """The run's payload blobs as the codec left them: the blob store's own encryption
    at rest (db/blob_cipher.py), below, is opened."""
    async with blobs.sessions() as session:
        rows = await session.scalars(
            select(Blob).where(Blob.run_id == run_id, Blob.kind == "payload")
        )
        stored = [bytes(row.data) for row in rows]
    assert all(data.startswith(BYTES_MARK) for data in stored)
    return [open_bytes(blobs.cipher, data, kind="payload", run_id=run_id) for data in stored]


async def test_no_run_input_output_or_failure_is_readable_in_temporals_database_file(
    encrypted: EncryptedStack, stub_llm: StubLLM
) -> None:
    api = encrypted.api
    stub_llm.script(marker("a"), Reply(SECRET_OUTPUT))
    stub_llm.script(marker("b"), Reply.error(400, f"refused: {SECRET_FAILURE}"))
    workflow_id = await create_workflow(api, SPEC)
    run_id = (await start(api, workflow_id, inputs={"topic": SECRET_INPUT}))["run_id"]

    # The API reads the run through the codec: the output, and the failure's message.
    run = await wait_for_run(api, run_id, "needs_attention")
    steps = {step["id"]: step for step in run["steps"]}
    assert steps["a"]["output"] == SECRET_OUTPUT
    assert SECRET_FAILURE in steps["b"]["error"]

    # Temporal's history holds ciphertext and references to blobs, no plaintext.
    handle = api.env.client.get_workflow_handle(run_id)
    history = await handle.fetch_history()
    as_json = history.to_json()
    for secret in (SECRET_INPUT, SECRET_OUTPUT, SECRET_FAILURE):
        assert secret not in as_json
    assert base64.b64encode(ENCODING).decode() in as_json
    assert "Encoded failure" in as_json
    events = list(history.events)
    await decode_event_failures(events, api.env.client.data_converter)
    assert any(
        SECRET_FAILURE in e.activity_task_failed_event_attributes.failure.message for e in events
    )

    # The claim-check stored the run's input, and stored it encrypted.
    stored = await payload_blobs(encrypted.blobs, run_id)
    assert stored, "the run's input should have gone to the blob store"
    for data in stored:
        payload = Payload()
        payload.ParseFromString(data)
        assert payload.metadata["encoding"] == ENCODING
        assert SECRET_INPUT.encode() not in data

    # Temporal Web's view: the codec server decrypts what the history holds.
    first = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    decoded = await api.http.post(
        "/codec/decode",
        json={"payloads": [json_format.MessageToDict(first)]},
        headers={"X-Namespace": api.env.client.namespace},
    )
    assert decoded.status_code == 200, decoded.text
    [plain] = decoded.json()["payloads"]
    assert SECRET_INPUT in base64.b64decode(plain["data"]).decode()

    # Finally the file itself, once the server has closed it.
    await api.stop_worker()
    await encrypted.temporal.shutdown()
    on_disk = raw_bytes(encrypted.temporal_db)
    assert run_id.encode() in on_disk  # the file does hold the run
    # Summaries too (plain metadata to Temporal): they name steps by id, not description.
    for secret in (SECRET_INPUT, SECRET_OUTPUT, SECRET_FAILURE, "STEP-A: research"):
        assert secret.encode() not in on_disk, secret


async def test_an_old_key_still_reads_and_an_unknown_key_is_named(
    encrypted: EncryptedStack,
) -> None:
    """Runs sealed with a key that has since rotated into DECRYPTION_KEYS stay readable;
    one sealed with a key nobody configured fails with its key id."""
    temporal = encrypted.temporal.client
    store = PayloadStore(encrypted.blobs)
    old_client = Client(
        **{
            **temporal.config(),
            "data_converter": payload_data_converter(store, EncryptionCodec(OLD_KEY)),
        }
    )
    handle = await old_client.start_workflow(
        "NobodyRunsThis", SECRET_INPUT, id=f"rotation-{uuid.uuid4()}", task_queue="nobody"
    )
    started = (await handle.fetch_history()).events[0]
    [sealed] = started.workflow_execution_started_event_attributes.input.payloads
    assert sealed.metadata["encryption-key-id"] == key_id(OLD_KEY).encode()

    # Kasal's converter: the new key seals, the old one still opens.
    current = encrypted.api.env.client.data_converter
    assert await current.decode([sealed]) == [SECRET_INPUT]

    stranger = payload_data_converter(store, EncryptionCodec(os.urandom(32)))
    with pytest.raises(UnknownPayloadKey, match=key_id(OLD_KEY)):
        await stranger.decode([sealed])

    # The codec server says the same, as a 400.
    answer = await encrypted.api.http.post(
        "/codec/decode", json={"payloads": [json_format.MessageToDict(sealed)]}
    )
    assert answer.status_code == 200
    unknown = EncryptionCodec(os.urandom(32)).seal(Payload(data=b"x"))
    answer = await encrypted.api.http.post(
        "/codec/decode", json={"payloads": [json_format.MessageToDict(unknown)]}
    )
    assert answer.status_code == 400
    assert unknown.metadata["encryption-key-id"].decode() in answer.json()["detail"]
    await handle.terminate()


async def test_codec_server_answers_temporal_webs_preflight_with_credentials(
    encrypted: EncryptedStack,
) -> None:
    api = encrypted.api
    origin = api.settings.temporal_ui_url
    root = api.server.url
    async with httpx.AsyncClient(base_url=root, headers=api.http.headers) as http:
        preflight = await http.options(
            "/api/v1/codec/decode",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,x-namespace",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == origin
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "x-namespace" in preflight.headers["access-control-allow-headers"]

        sealed = EncryptionCodec(KEY).seal(
            Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')
        )
        body = {"payloads": [json_format.MessageToDict(sealed)]}
        answer = await http.post(
            "/api/v1/codec/decode", json=body, headers={"Origin": origin, "X-Namespace": "x"}
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert base64.b64decode(answer.json()["payloads"][0]["data"]) == b'"hi"'

        # Encode is the inverse, for what Temporal Web sends.
        plain = {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(b"1")}]}
        encoded = (await http.post("/api/v1/codec/encode", json=plain)).json()["payloads"]
        assert base64.b64decode(encoded[0]["metadata"]["encoding"]) == ENCODING
        again = (await http.post("/api/v1/codec/decode", json={"payloads": encoded})).json()
        assert again == plain

        # Any other origin, and any other path, gets no CORS at all.
        other = await http.options(
            "/api/v1/codec/decode",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers
        runs = await http.get("/api/v1/runs", headers={"Origin": origin})
        assert "access-control-allow-origin" not in runs.headers


def test_keys_are_checked_at_start() -> None:
    assert encryption_codec(None) is None
    codec = encryption_codec(b64(KEY), f"{b64(OLD_KEY)}, ")
    assert codec is not None and codec.key_ids == [key_id(KEY), key_id(OLD_KEY)]
    with pytest.raises(ValueError, match="32 bytes"):
        encryption_codec(b64(b"short"))
    with pytest.raises(ValueError, match="not base64"):
        encryption_codec("not base64!")
    assert payload_codec(Settings(_env_file=None)) is None
