"""The built-in tools, called as a step calls them: their catalogue data against their
implementations, and each tool's results and refusals, against real servers and databases."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from activities.tools.calculate import MAX_EXPRESSION_CHARS, calculate, json_query
from activities.tools.fetch import FetchPolicy, fetch_url
from activities.tools.handle import ToolError
from activities.tools.scratch import MAX_FILE_BYTES, ScratchSpace
from activities.tools.sql import MAX_ROWS, SqlTool
from activities.tools.toolbox import NO_TOOL_SECRETS, ToolEnvironment, builtin_calls, open_toolbox
from db.blobs import BlobStore
from tests.tool_server import BIG_BYTES, ToolServer
from workflows.tools import BUILTIN_BY_NAME, BUILTIN_TOOLS, MAX_TOOL_RESULT_BYTES, pin_builtin

# --- helpers -----------------------------------------------------------------------------


class ReadKeys(dict[str, Any]):
    """Arguments that remember which of their keys the implementation read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def sqlite_database(path: Path, rows: int = 3) -> str:
    """A SQLite file with a table of `rows` people; its URL for SqlTool."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany(
            "INSERT INTO people (id, name) VALUES (?, ?)",
            [(i, f"person {i}") for i in range(1, rows + 1)],
        )
    connection.close()
    return f"sqlite+aiosqlite:///{path}"


def people_in(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM people").fetchone()
    connection.close()
    return int(count)


def kasal_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'kasal.db'}"


class Hops:
    """A tiny HTTP server for fetch_url's hops: ``/to?url=U`` redirects to U, ``/loop``
    redirects to itself, ``/host`` answers the Host header it got; anything else, 404."""

    def __init__(self, host: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/to":
                    self._send(302, b"", parse_qs(parts.query)["url"][0])
                elif parts.path == "/loop":
                    self._send(302, b"", "/loop")
                elif parts.path == "/host":
                    self._send(200, str(self.headers.get("Host")).encode())
                else:
                    self._send(404, b"not here")

            def _send(self, status: int, body: bytes, location: str | None = None) -> None:
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self._server = server_class((host, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def redirect(self, to: str) -> str:
        return f"{self.url}/to?url={to}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def hops() -> Iterator[Hops]:
    server = Hops("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hops_v6() -> Iterator[Hops]:
    server = Hops("::1")
    yield server
    server.stop()


# --- 1. the catalogue's data matches the implementations ---------------------------------

# Harmless arguments for each built-in, in an order where each call can work (a file is
# written before it is read).
EXAMPLES: dict[str, dict[str, Any]] = {
    "calculate": {"expression": "1+1"},
    "json_query": {"document": '{"a": [1, {"b": "two"}]}', "path": "a.1.b"},
    "write_file": {"path": "notes/a.txt", "content": "hello"},
    "read_file": {"path": "notes/a.txt"},
    "list_files": {},
    "sql_query": {"query": "SELECT name FROM people ORDER BY id"},
    "fetch_url": {"url": "{tool_server}/weather/Oslo"},
}
EXPECTED: dict[str, str] = {
    "calculate": "2",
    "json_query": "two",
    "write_file": "wrote 5 characters to notes/a.txt",
    "read_file": "hello",
    "list_files": "notes/a.txt (5 characters)",
    "sql_query": '[{"name": "person 1"}, {"name": "person 2"}, {"name": "person 3"}]',
    "fetch_url": '{"city": "Oslo", "forecast": "sunny", "units": null}',
}


def environment_for(blob_store: BlobStore, tmp_path: Path) -> ToolEnvironment:
    return ToolEnvironment(
        blobs=blob_store,
        secrets=NO_TOOL_SECRETS,
        fetch_policy=FetchPolicy.parse("127.0.0.1"),
        sql=SqlTool(sqlite_database(tmp_path / "tool.db"), kasal_url(tmp_path)),
    )


def example(name: str, tool_server: ToolServer) -> dict[str, Any]:
    return {
        key: value.replace("{tool_server}", tool_server.url) if isinstance(value, str) else value
        for key, value in EXAMPLES[name].items()
    }


def test_the_catalogue_names_exactly_the_implemented_built_ins(
    blob_store: BlobStore, tmp_path: Path
) -> None:
    calls = builtin_calls(
        environment_for(blob_store, tmp_path), ScratchSpace(blob_store, "run", "step")
    )
    assert {tool.name for tool in BUILTIN_TOOLS} == set(calls)
    assert set(EXAMPLES) == set(calls)
    assert len(BUILTIN_TOOLS) == len(BUILTIN_BY_NAME)  # no name twice


@pytest.mark.parametrize("tool", BUILTIN_TOOLS, ids=lambda tool: tool.name)
def test_each_args_schema_is_a_valid_json_schema_the_example_satisfies(tool: Any) -> None:
    Draft202012Validator.check_schema(tool.args_schema)
    assert tool.args_schema["type"] == "object"
    assert set(tool.args_schema["required"]) <= set(tool.args_schema["properties"])
    Draft202012Validator(tool.args_schema).validate(EXAMPLES[tool.name])


async def test_each_built_in_works_with_arguments_its_schema_accepts_and_reads_them_all(
    blob_store: BlobStore, tmp_path: Path, tool_server: ToolServer
) -> None:
    environment = environment_for(blob_store, tmp_path)
    calls = builtin_calls(environment, ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "step"))
    for name in EXAMPLES:  # in order: write_file before read_file
        arguments = ReadKeys(example(name, tool_server))
        Draft202012Validator(BUILTIN_BY_NAME[name].args_schema).validate(dict(arguments))
        assert await calls[name](arguments) == EXPECTED[name], name
        required = set(BUILTIN_BY_NAME[name].args_schema["required"])
        assert required <= arguments.read, f"{name} never reads {required - arguments.read}"
    assert tool_server.count("/weather/Oslo") == 1


async def test_a_call_missing_a_required_property_fails(
    blob_store: BlobStore, tmp_path: Path, tool_server: ToolServer
) -> None:
    environment = environment_for(blob_store, tmp_path)
    calls = builtin_calls(environment, ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "step"))
    await calls["write_file"](example("write_file", tool_server))
    checked = 0
    for tool in BUILTIN_TOOLS:
        for missing in tool.args_schema["required"]:
            arguments = {k: v for k, v in example(tool.name, tool_server).items() if k != missing}
            with pytest.raises((KeyError, ToolError)):
                await calls[tool.name](arguments)
            checked += 1
    assert checked == 8
    assert tool_server.count("/") == 0


async def test_open_toolbox_gives_every_built_in_its_catalogue_entry(
    blob_store: BlobStore, tmp_path: Path
) -> None:
    pinned = [pin_builtin(tool) for tool in BUILTIN_TOOLS]
    environment = environment_for(blob_store, tmp_path)
    async with open_toolbox(pinned, environment, f"run-{uuid.uuid4()}", "step") as toolbox:
        assert [handle.info for handle in toolbox.tools] == list(BUILTIN_TOOLS)
        [calc] = [handle for handle in toolbox.tools if handle.info.name == "calculate"]
        assert await calc.call({"expression": "6*7"}) == "42"
        assert toolbox.secrets == []


# --- 2. calculate and json_query ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("1+1", "2"),
        ("(1 + 2) * 3", "9"),
        ("2**10", "1024"),
        ("7 // 2", "3"),
        ("7 % 3", "1"),
        ("1 / 4", "0.25"),
        ("-(3 - 5)", "2"),
        ("+4", "4"),
        ("1.5 * 2", "3.0"),
        ("sqrt(16)", "4.0"),
        ("round(2.567, 2)", "2.57"),
        ("max(1, 5, 3) + min(4, 2)", "7"),
        ("abs(-4)", "4"),
        ("2 ** 0.5", "1.4142135623730951"),
        ("10 ** -2", "0.01"),
    ],
)
def test_calculate(expression: str, result: str) -> None:
    assert calculate(expression) == result


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x + 1", "not allowed"),
        ("__import__('os').system('true')", "not allowed"),
        ("(1).real", "not allowed"),
        ("abs.__class__", "not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", "not allowed"),
        ("open('/etc/passwd')", "not allowed"),
        ("'a' * 3", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("True + 1", "not allowed"),
        ("1j * 2", "not allowed"),
        ("round(1.5, ndigits=1)", "not allowed"),
        ("1 if 1 else 2", "not allowed"),
        ("9**9**9", "too large"),
        ("10**10**10", "too large"),
        ("2**100000", "too large"),
        ("(10**999)**999", "too large"),
        ("1" * (MAX_EXPRESSION_CHARS + 1), "longer than"),
        ("1/0", "cannot calculate"),
        ("sqrt(-1)", "cannot calculate"),
        ("10.0 ** 999", "cannot calculate"),
        ("max()", "cannot calculate"),
        ("1 +", "cannot calculate"),
        ("", "cannot calculate"),
        # Each power is allowed, but the result has more digits than Python prints.
        ("(9**999)**5", "cannot calculate"),
        ("*".join(["9**999"] * 6), "cannot calculate"),
    ],
)
def test_calculate_refuses_with_a_tool_error(expression: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        calculate(expression)


DOCUMENT = json.dumps({"items": [{"name": "a", "tags": ["x"]}, {"name": "b"}], "count": 2})


@pytest.mark.parametrize(
    ("path", "result"),
    [
        ("items.0.name", "a"),
        ("items.1", '{"name": "b"}'),
        ("items.0.tags", '["x"]'),
        ("count", "2"),
        ("", DOCUMENT),
        ("items..1.name", "b"),
    ],
)
def test_json_query(path: str, result: str) -> None:
    assert json_query(DOCUMENT, path) == result


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        ("{not json", "", "not JSON"),
        (DOCUMENT, "nothing", r"no key 'nothing'; the keys are \['count', 'items'\]"),
        (DOCUMENT, "items.5", "no item '5' in a list of 2"),
        (DOCUMENT, "items.first", "no item 'first'"),
        (DOCUMENT, "count.x", "cannot read 'x' from int"),
        (DOCUMENT, "items.0.name.x", "cannot read 'x' from str"),
        # Valid JSON that Python will not read: a number of 5,000 digits, deep nesting.
        ("1" * 5000, "", "cannot be read"),
        ("[" * 100_000 + "]" * 100_000, "", "cannot be read"),
    ],
)
def test_json_query_refuses_with_a_tool_error(document: str, path: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        json_query(document, path)


# --- 3. fetch_url ------------------------------------------------------------------------

NO_ALLOW = FetchPolicy.parse("")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/weather/x",
        "http://localhost:{port}/weather/x",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}/",
        "http://100.64.0.1/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
    ],
)
async def test_fetch_refuses_non_public_addresses_without_an_allowance(
    url: str, tool_server: ToolServer
) -> None:
    port = tool_server.url.rsplit(":", 1)[1]
    with pytest.raises(ToolError, match=r"refused: .* not a public address"):
        await fetch_url(url.format(port=port), NO_ALLOW)
    assert tool_server.requests == []


@pytest.mark.parametrize(
    ("allow", "host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("10.0.0.0/8, 127.0.0.0/8", "127.0.0.1"),
        ("wiki.internal, LOCALHOST", "localhost"),
    ],
)
async def test_fetch_allows_what_kasal_fetch_allow_lists(
    allow: str, host: str, tool_server: ToolServer
) -> None:
    port = tool_server.url.rsplit(":", 1)[1]
    text = await fetch_url(f"http://{host}:{port}/weather/Bergen", FetchPolicy.parse(allow))
    assert json.loads(text)["city"] == "Bergen"
    assert tool_server.count("/weather/Bergen") == 1


async def test_an_allowance_covers_only_what_it_lists(tool_server: ToolServer) -> None:
    port = tool_server.url.rsplit(":", 1)[1]
    for allow in ["10.0.0.0/8", "127.0.0.2", "wiki.internal", "::1"]:
        with pytest.raises(ToolError, match="refused"):
            await fetch_url(f"http://127.0.0.1:{port}/weather/x", FetchPolicy.parse(allow))
    assert tool_server.requests == []


async def test_fetch_allows_an_ipv6_loopback_by_cidr(hops_v6: Hops) -> None:
    with pytest.raises(ToolError, match="refused"):
        await fetch_url(f"{hops_v6.url}/host", NO_ALLOW)
    text = await fetch_url(f"{hops_v6.url}/host", FetchPolicy.parse("::1/128"))
    assert text == f"[::1]:{hops_v6.port}"


async def test_fetch_connects_to_the_checked_address_and_names_the_host(hops: Hops) -> None:
    text = await fetch_url(f"http://localhost:{hops.port}/host", FetchPolicy.parse("localhost"))
    assert text == f"localhost:{hops.port}"


async def test_a_redirect_within_what_is_allowed_is_followed(
    hops: Hops, tool_server: ToolServer
) -> None:
    url = hops.redirect(f"{tool_server.url}/weather/Tromso")
    text = await fetch_url(url, FetchPolicy.parse("127.0.0.1"))
    assert json.loads(text)["city"] == "Tromso"


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:9/"],
)
async def test_a_redirect_from_an_allowed_host_to_a_refused_one_is_refused(
    hops: Hops, target: str
) -> None:
    with pytest.raises(ToolError, match="refused"):
        await fetch_url(hops.redirect(target), FetchPolicy.parse("127.0.0.1"))


async def test_a_redirect_from_an_allowed_name_to_another_host_is_refused(
    hops: Hops, tool_server: ToolServer
) -> None:
    # localhost is allowed by name; 127.0.0.1, the same machine by another name, is not.
    url = f"http://localhost:{hops.port}/to?url={tool_server.url}/weather/x"
    with pytest.raises(ToolError, match=r"refused: 127\.0\.0\.1"):
        await fetch_url(url, FetchPolicy.parse("localhost"))
    assert tool_server.requests == []


async def test_a_redirect_loop_ends_in_a_tool_error(hops: Hops) -> None:
    with pytest.raises(ToolError, match="more than 5 redirects"):
        await fetch_url(f"{hops.url}/loop", FetchPolicy.parse("127.0.0.1"))


async def test_a_huge_answer_comes_back_capped_with_a_note(tool_server: ToolServer) -> None:
    text = await fetch_url(f"{tool_server.url}/big", FetchPolicy.parse("127.0.0.1"))
    body, note = text.rsplit("\n", 1)
    assert body == "x" * MAX_TOOL_RESULT_BYTES
    assert note == "[truncated: the first 256 KB are shown]"
    assert MAX_TOOL_RESULT_BYTES < BIG_BYTES
    assert tool_server.count("/big") == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/file",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "/relative/path",
        "http://",
    ],
)
async def test_fetch_refuses_other_schemes_and_non_urls(url: str) -> None:
    with pytest.raises(ToolError, match=r"only http|not a URL"):
        await fetch_url(url, FetchPolicy.parse("127.0.0.1"))


async def test_a_redirect_to_another_scheme_is_refused(hops: Hops) -> None:
    with pytest.raises(ToolError, match="only http"):
        await fetch_url(hops.redirect("file:///etc/passwd"), FetchPolicy.parse("127.0.0.1"))


async def test_a_404_is_a_tool_error(tool_server: ToolServer) -> None:
    with pytest.raises(ToolError, match="answered 404"):
        await fetch_url(f"{tool_server.url}/nothing", FetchPolicy.parse("127.0.0.1"))


async def test_an_unresolvable_host_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="cannot resolve"):
        await fetch_url("http://no-such-host.invalid/", NO_ALLOW)


# --- 4. scratch files --------------------------------------------------------------------


async def test_two_steps_of_a_run_share_its_files_and_the_newest_write_wins(
    blob_store: BlobStore,
) -> None:
    run = f"run-{uuid.uuid4()}"
    first = ScratchSpace(blob_store, run, "step-a")  # as on one worker
    second = ScratchSpace(blob_store, run, "step-b")  # as on another
    await first.write("notes/plan.txt", "draft")
    assert await second.read("notes/plan.txt") == "draft"
    await second.write("notes/plan.txt", "final")
    await second.write("data.json", "{}")
    assert await first.read("notes/plan.txt") == "final"
    assert await first.list() == "data.json (2 characters)\nnotes/plan.txt (5 characters)"
    await first.write("notes/plan.txt", "final, revised")
    assert await second.read("notes/plan.txt") == "final, revised"


async def test_another_run_does_not_see_a_runs_files(blob_store: BlobStore) -> None:
    await ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "s").write("secret.txt", "mine")
    other = ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "s")
    assert await other.list() == "(no files)"
    with pytest.raises(ToolError, match=r"no file secret.txt; the files are \[\]"):
        await other.read("secret.txt")


@pytest.mark.parametrize(
    ("spelling", "path"),
    [
        ("./a/../b.txt", "b.txt"),
        ("../../etc/passwd", "etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        ("//x//y/./z.txt", "x/y/z.txt"),
        ("  notes/a.txt  ", "notes/a.txt"),
        ("dir/", "dir"),
    ],
)
async def test_paths_have_one_spelling_inside_the_space(
    blob_store: BlobStore, spelling: str, path: str
) -> None:
    space = ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "s")
    assert await space.write(spelling, "x") == f"wrote 1 characters to {path}"
    assert await space.list() == f"{path} (1 characters)"
    assert await space.read(path) == "x"
    assert await space.read(spelling) == "x"


@pytest.mark.parametrize("path", ["", "   ", ".", "/", "..", "a" * 201])
async def test_a_path_that_names_no_file_is_refused(blob_store: BlobStore, path: str) -> None:
    space = ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "s")
    with pytest.raises(ToolError, match="not a file path"):
        await space.write(path, "x")


async def test_a_file_over_the_size_limit_is_refused(blob_store: BlobStore) -> None:
    space = ScratchSpace(blob_store, f"run-{uuid.uuid4()}", "s")
    assert await space.write("full.txt", "x" * MAX_FILE_BYTES) == (
        f"wrote {MAX_FILE_BYTES} characters to full.txt"
    )
    with pytest.raises(ToolError, match="at most 1024 KB"):
        await space.write("over.txt", "x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ToolError, match="at most"):  # counted in bytes, not characters
        await space.write("over.txt", "é" * (MAX_FILE_BYTES // 2 + 1))
    assert await space.list() == f"full.txt ({MAX_FILE_BYTES} characters)"


# --- 5. sql_query ------------------------------------------------------------------------


@pytest.fixture
async def postgres_people(postgres_url: str) -> str:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
            )
            await connection.execute(
                text("INSERT INTO people SELECT i, 'person ' || i FROM generate_series(1, 3) i")
            )
    finally:
        await engine.dispose()
    return postgres_url


async def postgres_count(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM people"))).scalar_one())
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def people_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with three people, once as a SQLite file and once on a real Postgres."""
    if request.param == "sqlite":
        return sqlite_database(tmp_path / "people.db")
    return str(request.getfixturevalue("postgres_people"))


async def count_people(url: str, tmp_path: Path) -> int:
    if url.startswith("sqlite"):
        return people_in(tmp_path / "people.db")
    return await postgres_count(url)


async def test_a_select_returns_rows_as_json(people_url: str, tmp_path: Path) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    rows = json.loads(await tool.query("SELECT id, name FROM people WHERE id >= 2 ORDER BY id"))
    assert rows == [{"id": 2, "name": "person 2"}, {"id": 3, "name": "person 3"}]
    assert await tool.query("SELECT name FROM people WHERE id > 99") == "[]"


async def test_literals_with_colons_and_percents_are_data(people_url: str, tmp_path: Path) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    rows = json.loads(await tool.query("SELECT 'meet :noon at 100%' AS note"))
    assert rows == [{"note": "meet :noon at 100%"}]


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO people (id, name) VALUES (9, 'intruder')",
        "CREATE TABLE other (x INTEGER)",
        "DELETE FROM people",
        "UPDATE people SET name = 'x'",
        "DROP TABLE people",
    ],
)
async def test_writes_fail_as_read_only(people_url: str, tmp_path: Path, statement: str) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    with pytest.raises(ToolError, match=r"(?i)read-?only"):
        await tool.query(statement)
    assert await count_people(people_url, tmp_path) == 3


async def test_a_second_statement_is_not_run(people_url: str, tmp_path: Path) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    with pytest.raises(ToolError, match="the query failed"):
        await tool.query("SELECT 1; DELETE FROM people")
    assert await count_people(people_url, tmp_path) == 3


async def test_more_rows_than_the_cap_are_cut_with_a_note(people_url: str, tmp_path: Path) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    numbers = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) "
        "SELECT i FROM n"
    )
    result = await tool.query(numbers)
    rows, note = result.rsplit("\n", 1)
    assert json.loads(rows) == [{"i": i} for i in range(1, MAX_ROWS + 1)]
    assert note == "[the first 1000 rows are shown]"
    exactly = await tool.query(numbers.replace("1500", str(MAX_ROWS)))
    assert len(json.loads(exactly)) == MAX_ROWS  # no note when nothing was cut


async def test_a_bad_query_is_a_tool_error(people_url: str, tmp_path: Path) -> None:
    tool = SqlTool(people_url, kasal_url(tmp_path))
    with pytest.raises(ToolError, match=r"the query failed: .*nothing"):
        await tool.query("SELECT * FROM nothing")


async def test_kasals_own_database_is_refused(tmp_path: Path, postgres_url: str) -> None:
    own = kasal_url(tmp_path)
    with pytest.raises(ValueError, match="must not be Kasal's own database"):
        SqlTool(own, own)
    with pytest.raises(ValueError, match="must not be Kasal's own database"):
        SqlTool(postgres_url, postgres_url)
    # The same database, spelled another way.
    with pytest.raises(ValueError, match="must not be Kasal's own database"):
        SqlTool(own.replace("sqlite+aiosqlite", "sqlite"), own)
    host_only = postgres_url.replace(":5432/", "/")
    if host_only != postgres_url:
        with pytest.raises(ValueError, match="must not be Kasal's own database"):
            SqlTool(host_only, postgres_url)
    SqlTool(sqlite_database(tmp_path / "other.db"), own)  # another database is fine


async def test_kasals_own_sqlite_file_is_refused_by_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="must not be Kasal's own database"):
        SqlTool("sqlite+aiosqlite:///kasal.db", kasal_url(tmp_path))


async def test_with_no_database_configured_sql_query_says_so(
    blob_store: BlobStore, tmp_path: Path
) -> None:
    with pytest.raises(ToolError, match=r"no database is configured .*KASAL_SQL_TOOL_DATABASE_URL"):
        await SqlTool(None, kasal_url(tmp_path)).query("SELECT 1")
    environment = ToolEnvironment(blobs=blob_store, secrets=NO_TOOL_SECRETS)
    calls = builtin_calls(environment, ScratchSpace(blob_store, "run", "step"))
    with pytest.raises(ToolError, match="no database is configured"):
        await calls["sql_query"]({"query": "SELECT 1"})


async def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(ToolError, match="the query failed"):
        await SqlTool(f"sqlite+aiosqlite:///{missing}", kasal_url(tmp_path)).query("SELECT 1")
    assert not missing.exists()
