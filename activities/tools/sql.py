"""The sql_query tool: one read-only statement against the database an operator configured
(``KASAL_SQL_TOOL_DATABASE_URL``), never Kasal's own.

Read-only is the database's to enforce, not a check on the SQL text: Postgres runs the
statement in a ``READ ONLY`` transaction (and should be given a read-only role besides),
SQLite opens the file read-only. The statement runs alone, as one prepared statement,
and the transaction is rolled back whatever it did.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from activities.tools.handle import ToolError

MAX_ROWS = 1000
STATEMENT_TIMEOUT_MS = 30_000


class SqlTool:
    def __init__(self, database_url: str | None, kasal_database_url: str) -> None:
        self._url = None if database_url is None else _read_only(make_url(database_url))
        if self._url is not None and _same_database(self._url, make_url(kasal_database_url)):
            raise ValueError("KASAL_SQL_TOOL_DATABASE_URL must not be Kasal's own database")

    async def query(self, statement: str) -> str:
        if self._url is None:
            raise ToolError("no database is configured for sql_query (KASAL_SQL_TOOL_DATABASE_URL)")
        engine = create_async_engine(self._url)
        try:
            async with engine.connect() as connection:
                if engine.dialect.name == "postgresql":
                    await connection.execute(text("SET TRANSACTION READ ONLY"))
                    # A query that would run for good (pg_sleep, a cross join) ends here.
                    await connection.execute(
                        text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                    )
                # As the driver gets it: text() would read "':noon'" as a bind parameter.
                result = await connection.exec_driver_sql(statement)
                rows = (
                    [dict(row._mapping) for row in result.fetchmany(MAX_ROWS + 1)]
                    if result.returns_rows
                    else []
                )
                await connection.rollback()
        except SQLAlchemyError as exc:
            raise ToolError(f"the query failed: {getattr(exc, 'orig', None) or exc}") from None
        finally:
            await engine.dispose()
        shown = rows[:MAX_ROWS]
        note = f"\n[the first {MAX_ROWS} rows are shown]" if len(rows) > MAX_ROWS else ""
        return json.dumps(shown, default=str) + note


def _read_only(url: URL) -> URL:
    if url.get_backend_name() != "sqlite":
        return url
    database = url.database or ""
    if database.startswith("file:"):
        return url
    query: dict[str, Any] = {**url.query, "mode": "ro", "uri": "true"}
    return url.set(database=f"file:{database}", query=query)


_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433, "oracle": 1521}


def _same_database(a: URL, b: URL) -> bool:
    def key(url: URL) -> tuple[str, str | None, int | None, str]:
        backend = url.get_backend_name()
        database = (url.database or "").removeprefix("file:")
        if backend == "sqlite" and database and database != ":memory:":
            database = os.path.abspath(database)  # "kasal.db" and "/srv/kasal.db" are one
        return backend, url.host, url.port or _DEFAULT_PORTS.get(backend), database

    return key(a) == key(b)
