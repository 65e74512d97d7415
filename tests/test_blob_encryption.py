"""Blobs at rest are encrypted with the instance's secret key (db/blob_cipher.py): the
``blobs`` table holds no output, transcript or payload in the clear, the API still reads
them, blobs written before encryption still read, and a marked blob without its key (or
moved to another run) fails plainly."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.schemas.transcripts import ATTEMPT_TRANSCRIPT_KIND
from db.blob_cipher import BYTES_MARK, TEXT_MARK, BlobCipher, BlobUnreadable
from db.blobs import BlobStore
from db.migrate import upgrade_to_head
from db.models import Blob
from db.payload_store import PAYLOAD_BUDGET_BYTES
from db.repositories.blobs import PAYLOAD_KIND
from db.secrets import SecretBox, load_secret_box
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from tests.api_stack import ApiStack
from tests.helpers import agent, marker, task
from tests.stub_llm import Reply, StubLLM
from tests.test_api_runs import create_workflow, start, wait_for_run
from tests.test_large_outputs import text_of
from workflows.task_step import INLINE_OUTPUT_LIMIT

OUTPUT_SECRET = "ZEBRAQUARTZ-7731"
INPUT_SECRET = "PLATYPUSMARBLE-4402"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # Raw rows read with plain SQL; SQLite is enough (the encryption is above the dialect).
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


async def raw_rows(database_url: str, query: str) -> list[dict[str, Any]]:
    """Rows as stored, read with plain SQL."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def raw_blobs(database_url: str) -> list[dict[str, Any]]:
    return await raw_rows(database_url, "SELECT kind, run_id, content, data FROM blobs")


def plaintext_in(row: dict[str, Any], needle: str) -> bool:
    data = row["data"] or b""
    return needle in row["content"] or needle.encode() in data


async def test_a_runs_blobs_hold_no_plaintext_and_the_api_still_reads_them(
    api: ApiStack, stub_llm: StubLLM, database_url: str
) -> None:
    output = text_of(4 * INLINE_OUTPUT_LIMIT + 40 * 1024, OUTPUT_SECRET)
    stub_llm.script(marker("a"), Reply(output))
    spec = {
        "inputs": [{"name": "topic"}],
        "agents": [agent()],
        "steps": [task("a", description="STEP-A: write about {topic}.")],
    }
    # A workflow input over the payload budget: it goes to the blobs table as a payload.
    topic = text_of(PAYLOAD_BUDGET_BYTES + 4096, INPUT_SECRET)
    run_id = (await start(api, await create_workflow(api, spec), inputs={"topic": topic}))["run_id"]
    run = await wait_for_run(api, run_id, "completed")

    assert run["steps"][0]["output"] == output
    response = await api.http.get(f"/runs/{run_id}/steps/a/transcript")
    assert response.status_code == 200, response.text
    [attempt] = response.json()["attempts"]
    assert attempt["entries"][0]["reply"] == output

    rows = await raw_blobs(database_url)
    kinds = {row["kind"] for row in rows if row["run_id"] == run_id}
    assert {"output", ATTEMPT_TRANSCRIPT_KIND, PAYLOAD_KIND} <= kinds, kinds
    assert not [row["kind"] for row in rows if plaintext_in(row, OUTPUT_SECRET)]
    assert not [row["kind"] for row in rows if plaintext_in(row, INPUT_SECRET)]
    for row in rows:
        if row["kind"] == PAYLOAD_KIND:
            assert row["data"].startswith(BYTES_MARK)
        else:
            assert row["content"].startswith(TEXT_MARK)
    # The call journal beside them: the model's reply is in it, sealed to the run.
    calls = await raw_rows(database_url, "SELECT run_id, record FROM call_journal")
    assert [call for call in calls if call["run_id"] == run_id]
    for call in calls:
        assert OUTPUT_SECRET not in str(call["record"]) and INPUT_SECRET not in str(call["record"])
        assert '"sealed"' in str(call["record"]) or "'sealed'" in str(call["record"])


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[Any]]:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def cipher(tmp_path: Path) -> BlobCipher:
    return BlobCipher.of(load_secret_box(None, tmp_path / "data", create=True))


async def test_blobs_written_before_encryption_still_read(
    sessions: async_sessionmaker[Any], cipher: BlobCipher
) -> None:
    before = BlobStore(sessions)
    blob_id = await before.put(kind="output", run_id="r1", step_id="a", content="old output")
    payload_id = uuid.uuid4()
    await before.put_payload(blob_id=payload_id, run_id="r1", data=b"\n\x03old payload")

    store = BlobStore(sessions, cipher)
    assert await store.get_many([blob_id]) == {blob_id: "old output"}
    assert await store.contents_of_run("r1", "output") == ["old output"]
    assert await store.contents_of_step("r1", "a", "output") == ["old output"]
    assert await store.get_payloads([payload_id]) == {payload_id: b"\n\x03old payload"}
    # A fork's copy of an old blob is encrypted, for the fork.
    [copy_id] = (await store.copy_to_run([blob_id], "fork")).values()
    assert await store.get_many([copy_id]) == {copy_id: "old output"}
    async with UnitOfWork(sessions) as uow:
        copied = (await uow.blobs.get_many([uuid.UUID(copy_id)]))[uuid.UUID(copy_id)]
    assert copied.content.startswith(TEXT_MARK)


async def test_encrypted_blobs_round_trip_and_fork_copies_are_re_encrypted(
    sessions: async_sessionmaker[Any], cipher: BlobCipher
) -> None:
    store = BlobStore(sessions, cipher)
    blob_id = await store.put(kind="output", run_id="r1", step_id="a", content="naïve output")
    payload_id = uuid.uuid4()
    await store.put_payload(blob_id=payload_id, run_id="r1", data=b"payload bytes")
    assert await store.get_many([blob_id]) == {blob_id: "naïve output"}
    assert await store.get_payloads([payload_id]) == {payload_id: b"payload bytes"}

    copies = await store.copy_to_run([blob_id, str(payload_id)], "fork")
    assert await store.get_many([copies[blob_id]]) == {copies[blob_id]: "naïve output"}
    copied_payload = uuid.UUID(copies[str(payload_id)])
    assert await store.get_payloads([copied_payload]) == {copied_payload: b"payload bytes"}
    async with UnitOfWork(sessions) as uow:
        rows = await uow.blobs.get_many(
            [uuid.UUID(blob_id), uuid.UUID(copies[blob_id]), payload_id, copied_payload]
        )
    original, copy = rows[uuid.UUID(blob_id)], rows[uuid.UUID(copies[blob_id])]
    assert original.content != copy.content  # sealed again, for the fork's run id
    assert original.size == copy.size == len("naïve output".encode())
    assert rows[payload_id].size == len(b"payload bytes")
    stored = rows[payload_id].data
    assert stored is not None and b"payload bytes" not in stored


async def test_a_marked_blob_without_the_key_or_in_another_run_errors_clearly(
    sessions: async_sessionmaker[Any], cipher: BlobCipher
) -> None:
    store = BlobStore(sessions, cipher)
    blob_id = await store.put(kind="output", run_id="r1", step_id="a", content="secret")
    payload_id = uuid.uuid4()
    await store.put_payload(blob_id=payload_id, run_id="r1", data=b"payload")

    keyless = BlobStore(sessions)
    with pytest.raises(BlobUnreadable, match="encrypted, and this blob store has no key"):
        await keyless.get_many([blob_id])
    with pytest.raises(BlobUnreadable, match="encrypted, and this blob store has no key"):
        await keyless.get_payloads([payload_id])
    with pytest.raises(BlobUnreadable, match="no key"):
        await keyless.copy_to_run([blob_id], "fork")

    other_key = BlobStore(sessions, BlobCipher.of(SecretBox(base64.urlsafe_b64encode(b"k" * 32))))
    with pytest.raises(BlobUnreadable, match="does not decrypt"):
        await other_key.contents_of_run("r1", "output")

    # A row moved to another run (or relabelled) no longer opens: the run id is bound.
    async with UnitOfWork(sessions) as uow:
        await uow.session.execute(
            update(Blob).where(Blob.id == uuid.UUID(blob_id)).values(run_id="r2")
        )
    with pytest.raises(BlobUnreadable, match="does not decrypt"):
        await store.get_many([blob_id])


async def test_the_same_payload_keeps_its_content_address(
    sessions: async_sessionmaker[Any], cipher: BlobCipher
) -> None:
    """Encryption is below the claim-check: a payload stored twice is one row, read whole."""
    store = BlobStore(sessions, cipher)
    payload_id = uuid.uuid4()
    await store.put_payload(blob_id=payload_id, run_id="r1", data=b"same")
    await store.put_payload(blob_id=payload_id, run_id="r1", data=b"same")
    assert await store.payload_ids("r1") == {payload_id}
    assert await store.get_payloads([payload_id]) == {payload_id: b"same"}
