"""Engines and sessions for SQLite (the embedded default) and Postgres."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext import asyncio as sqlalchemy_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLAlchemy's own default: how long a session waits for a pooled connection.
POOL_TIMEOUT_SECONDS = 30.0


def create_engine(database_url: str, pool_timeout: float = POOL_TIMEOUT_SECONDS) -> AsyncEngine:
    # Looked up at each call, not imported by name: tracing's SQLAlchemy instrumentation
    # (kasal/tracing.py) replaces the module's function when it is installed.
    create_async_engine = sqlalchemy_asyncio.create_async_engine
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, pool_timeout=pool_timeout)
    in_memory = not url.database or url.database == ":memory:"
    if not in_memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # The pool's own reset is replaced by one that rolls back only a connection still in
    # a transaction. A session ends its transaction itself (commit, or rollback on
    # close), and the pool then rolled back again: one more trip to aiosqlite's thread
    # for every session, five on each task step's path.
    # An in-memory database is one connection, shared: no pool to wait for.
    waiting = {} if in_memory else {"pool_timeout": pool_timeout}
    engine = create_async_engine(url, pool_reset_on_return=None, **waiting)
    # The API and the worker share the file: WAL lets readers run beside a writer, and
    # the busy timeout makes a writer wait for another instead of failing at once.
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine.pool, "reset", _end_open_transaction)
    return engine


def _configure_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _end_open_transaction(
    dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """A connection back in the pool holds no transaction: an open one would keep
    SQLite's write lock from every other connection, the API's included."""
    if state.asyncio_safe and record.driver_connection.in_transaction:
        dbapi_connection.rollback()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
