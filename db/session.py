"""Engines and sessions for SQLite (the embedded default) and Postgres."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(database_url: str) -> AsyncEngine:
    # Looked up at each call, not imported by name: tracing's SQLAlchemy instrumentation
    # (kasal/tracing.py) replaces the module's function when it is installed.
    create_async_engine = sqlalchemy_asyncio.create_async_engine
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    # The API and the worker share the file: WAL lets readers run beside a writer, and
    # the busy timeout makes a writer wait for another instead of failing at once.
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
