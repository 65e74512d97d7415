"""The database layer on SQLite and a real Postgres: migrations, constraints, secrets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from db.base import utcnow
from db.migrate import upgrade_to_head
from db.models import Base
from db.secrets import SecretKeyMissing, load_secret_box
from db.session import create_engine, session_factory
from db.uow import UnitOfWork


async def test_migrations_give_the_schema_the_models_describe(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    await asyncio.to_thread(upgrade_to_head, database_url)  # a second run changes nothing
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


async def test_a_live_name_is_unique_and_archiving_frees_it(database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        async with UnitOfWork(sessions) as uow:
            archived, _ = await uow.workflows.create(
                name="brief", description="", spec={}, layout=None
            )
            archived.archived = True
            await uow.session.flush()
            await uow.workflows.create(name="brief", description="", spec={}, layout=None)
        with pytest.raises(IntegrityError):
            async with UnitOfWork(sessions) as uow:
                await uow.workflows.create(name="brief", description="", spec={}, layout=None)
        async with UnitOfWork(sessions) as uow:
            items, total = await uow.workflows.list_live(name_contains=None, limit=10, offset=0)
        assert total == 1
        assert items[0].created_at.tzinfo is not None
        assert items[0].created_at <= utcnow()
    finally:
        await engine.dispose()


async def test_a_block_inside_another_joins_its_transaction(database_url: str) -> None:
    """The outermost block commits; an error leaving it undoes the inner block's work."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def live_names() -> list[str]:
        async with UnitOfWork(sessions) as uow:
            items, _ = await uow.workflows.list_live(name_contains="joined", limit=10, offset=0)
        return sorted(item.name for item in items)

    try:
        uow = UnitOfWork(sessions)
        with pytest.raises(RuntimeError):
            async with uow:
                async with uow as inner:
                    await inner.workflows.create(
                        name="joined-undone", description="", spec={}, layout=None
                    )
                assert inner.session is uow.session
                raise RuntimeError("after the inner block")
        async with uow:
            async with uow as inner:
                await inner.workflows.create(
                    name="joined-kept", description="", spec={}, layout=None
                )
            assert await live_names() == []  # the outer block has not committed yet
        assert await live_names() == ["joined-kept"]
    finally:
        await engine.dispose()


def test_secret_key_file_is_created_once_and_required_where_it_cannot_be(
    tmp_path: Path,
) -> None:
    with pytest.raises(SecretKeyMissing, match="KASAL_SECRET_KEY"):
        load_secret_box(None, tmp_path, create=False)
    creator = load_secret_box(None, tmp_path, create=True)
    ciphertext = creator.encrypt("sk-live-123")
    assert "sk-live-123" not in ciphertext
    reader = load_secret_box(None, tmp_path, create=False)
    assert reader.decrypt(ciphertext) == "sk-live-123"
    with pytest.raises(SecretKeyMissing, match="cannot be decrypted"):
        load_secret_box("another-secret", tmp_path, create=False).decrypt(ciphertext)


async def test_a_sqlite_connection_goes_back_to_the_pool_without_a_transaction(
    tmp_path: Path,
) -> None:
    """The pool does not roll back after every session (db/session.py), so one that left
    a transaction open, which would hold SQLite's write lock, is rolled back there."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}")
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            await driver.execute("CREATE TABLE notes (text TEXT)")
            await driver.execute("INSERT INTO notes VALUES ('left open')")
            assert driver.in_transaction
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is driver  # the same connection, from the pool
            assert not driver.in_transaction
            cursor = await driver.execute("SELECT count(*) FROM notes")
            assert await cursor.fetchall() == [(0,)]
    finally:
        await engine.dispose()
