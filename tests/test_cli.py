"""The `kasal` CLI as people run it: real processes, a real Temporal dev server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus

from kasal.dev import child_environment, health_url, ready_message
from kasal.probes import http_ok, wait_for
from kasal.processes import stop_process
from kasal.settings import Settings
from kasal.supervisor import ChildExitedError, Supervisor, format_line

KASAL = Path(sys.executable).with_name("kasal")
WAIT_SECONDS = 30.0
NAMESPACE = "default"
RETENTION_DAYS = 7
EXPECTED_SEARCH_ATTRIBUTES = {
    "KasalWorkflowId": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KasalWorkflowName": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KasalVersion": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "KasalStatus": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KasalForkedFrom": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KasalForkedFromStep": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KasalScheduleId": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kasal_env(**settings: str) -> dict[str, str]:
    """This environment without any Kasal or Temporal setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KASAL_", "TEMPORAL_"))}
    return env | settings


# --- the command line -------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [str(KASAL), "--help"], capture_output=True, text=True, timeout=WAIT_SECONDS, check=True
    )
    commands = ("temporal", "llm", "api", "worker", "seed", "db", "dev", "serve")
    accounts = ("user", "token", "workspace", "login", "logout", "whoami")
    for command in (*commands, *accounts):
        assert re.search(rf"^\W*{command}\s", result.stdout, re.MULTILINE), command
    db_help = subprocess.run(
        [str(KASAL), "db", "--help"],
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=True,
    )
    assert re.search(r"^\W*upgrade\s", db_help.stdout, re.MULTILINE)


def test_importing_the_cli_loads_nothing_heavy() -> None:
    # What `kasal --help` pays for: the heavy parts load inside the commands that use them.
    heavy = ("crewai", "litellm", "temporalio", "uvicorn", "xllamacpp", "sqlalchemy")
    code = f"import sys, kasal.cli; print(*[m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
        check=True,
    )
    assert result.stdout.strip() == ""


# --- kasal temporal ---------------------------------------------------------------------


class KasalTemporal:
    """`kasal temporal` processes on fixed ports and one data dir, as a test starts them."""

    def __init__(self, data_dir: Path, logs: Path) -> None:
        self.port = free_port()
        self.ui_port = free_port()
        self.data_dir = data_dir
        self._logs = logs
        self._env = kasal_env(
            KASAL_DATA_DIR=str(data_dir),
            KASAL_TEMPORAL_PORT=str(self.port),
            KASAL_TEMPORAL_UI_PORT=str(self.ui_port),
            KASAL_RUN_RETENTION_DAYS=str(RETENTION_DAYS),
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    def start(self) -> tuple[subprocess.Popen[bytes], str]:
        """Start `kasal temporal`; return it and its output up to the ready line."""
        log = self._logs / f"kasal-temporal-{len(self.processes)}.log"
        with log.open("wb") as out:
            # Its own session, so cleanup can kill the Temporal binary under it too.
            process = subprocess.Popen(
                [str(KASAL), "temporal"],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)

        def still_running() -> None:
            if process.poll() is not None:
                raise AssertionError(f"kasal temporal exited:\n{log.read_text()}")

        wait_for(
            lambda: "Temporal dev server ready" in log.read_text(),
            timeout=WAIT_SECONDS,
            what="kasal temporal's ready line",
            check=still_running,
        )
        return process, log.read_text()

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        process.send_signal(signal.SIGTERM)
        return process.wait(WAIT_SECONDS)


@pytest.fixture
def kasal_temporal(tmp_path: Path) -> Iterator[KasalTemporal]:
    servers = KasalTemporal(tmp_path / "data", tmp_path)
    try:
        yield servers
    finally:
        for process in servers.processes:
            stop_process(process, 5, kill_group=True)


async def assert_configured(client: Client) -> None:
    listing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=NAMESPACE)
    )
    custom = dict(listing.custom_attributes)
    assert {name: custom.get(name) for name in EXPECTED_SEARCH_ATTRIBUTES} == (
        EXPECTED_SEARCH_ATTRIBUTES
    )
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=NAMESPACE)
    )
    retention = described.config.workflow_execution_retention_ttl.ToTimedelta()
    assert retention == timedelta(days=RETENTION_DAYS)


async def test_temporal_configures_the_server_on_every_start_and_keeps_runs(
    kasal_temporal: KasalTemporal,
) -> None:
    first, output = kasal_temporal.start()
    assert kasal_temporal.address in output
    assert kasal_temporal.ui_url in output
    assert http_ok(f"{kasal_temporal.ui_url}/api/v1/namespaces")
    assert (kasal_temporal.data_dir / "temporal.db").is_file()

    client = await Client.connect(kasal_temporal.address, namespace=NAMESPACE)
    await assert_configured(client)
    # No worker polls this task queue: the run stays open across the restart.
    workflow_id = f"cli-test-{uuid.uuid4()}"
    await client.start_workflow("AgentWorkflow", "input", id=workflow_id, task_queue="nobody")

    assert kasal_temporal.stop(first) == 0

    # Same database file: configuring again must succeed on what already exists.
    kasal_temporal.start()
    client = await Client.connect(kasal_temporal.address, namespace=NAMESPACE)
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    await assert_configured(client)


# --- kasal dev's parts ------------------------------------------------------------------


def test_ready_message_names_the_app_its_docs_and_temporal_web() -> None:
    settings = Settings(
        _env_file=None,
        KASAL_HOST="127.0.0.1",
        KASAL_PORT=9100,
        KASAL_APP_URL=None,
        KASAL_TEMPORAL_UI_URL=None,
        KASAL_TEMPORAL_UI_PORT=9233,
    )
    assert ready_message(settings) == (
        "Kasal is ready: app http://127.0.0.1:9100/ | API docs http://127.0.0.1:9100/docs | "
        "Temporal Web http://127.0.0.1:9233"
    )


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9100/healthz"),
        ("0.0.0.0", "http://127.0.0.1:9100/healthz"),
        ("::", "http://127.0.0.1:9100/healthz"),
        ("::1", "http://[::1]:9100/healthz"),
        ("localhost", "http://localhost:9100/healthz"),
    ],
)
def test_health_is_probed_where_this_machine_reaches_the_api(host: str, url: str) -> None:
    assert health_url(Settings(_env_file=None, KASAL_HOST=host, KASAL_PORT=9100)) == url


def test_children_resolve_exactly_the_parents_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    parent = Settings(
        _env_file=None,
        KASAL_DATA_DIR=Path("relative-data"),
        KASAL_PORT=9100,
        KASAL_TEMPORAL_PORT=9101,
        KASAL_SECRET_KEY="s3cret",
        TEMPORAL_ADDRESS=None,
    )
    env = child_environment(parent, kasal_env(PATH="/usr/bin"))
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["KASAL_DATA_DIR"] == str(tmp_path / "relative-data")
    assert "TEMPORAL_ADDRESS" not in env

    # A child in another directory still resolves the same settings from this env.
    monkeypatch.chdir("/")
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == parent


def test_output_lines_carry_their_childs_name() -> None:
    assert format_line("api", "hello", 8, None) == "api      | hello"
    coloured = format_line("api", "hello", 8, "green")
    assert coloured.startswith("\x1b[") and coloured.endswith("api      |\x1b[0m hello")


def python_child(script: str) -> list[str]:
    return [sys.executable, "-c", script]


SERVICE = """
import signal, sys, time
def stop(*_):
    print("stopping", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("up", flush=True)
time.sleep(60)
"""


def test_supervisor_relays_output_and_stops_children_newest_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor(os.environ, {"first": "cyan", "second": "green", "step": "blue"})
    seen = ""

    def output_has(*lines: str) -> bool:
        nonlocal seen
        seen += capsys.readouterr().out
        return all(line in seen for line in lines)

    try:
        supervisor.start("first", python_child(SERVICE))
        supervisor.run("step", python_child("print('migrated')"), timeout=WAIT_SECONDS)
        supervisor.start("second", python_child(SERVICE))
        supervisor.wait_for(
            lambda: output_has("first  | up", "second | up"), timeout=WAIT_SECONDS, what="up"
        )
        assert "step   | migrated" in seen
    finally:
        supervisor.stop_all(WAIT_SECONDS)
    seen += capsys.readouterr().out
    assert seen.index("second | stopping") < seen.index("first  | stopping")


def test_supervisor_reports_a_failed_step_and_a_dead_service() -> None:
    supervisor = Supervisor(os.environ, {"service": "cyan", "step": "blue"})
    try:
        with pytest.raises(ChildExitedError, match="step failed with exit code 3"):
            supervisor.run("step", python_child("raise SystemExit(3)"), timeout=WAIT_SECONDS)
        supervisor.start("service", python_child("raise SystemExit(4)"))
        with pytest.raises(ChildExitedError, match="service exited unexpectedly with code 4"):
            supervisor.wait_for(lambda: False, timeout=WAIT_SECONDS, what="nothing")
    finally:
        supervisor.stop_all(WAIT_SECONDS)


def test_supervisor_kills_a_child_that_ignores_sigterm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor(os.environ, {"stubborn": "red"})
    ignoring = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    supervisor.start("stubborn", python_child(ignoring + "print('up', flush=True); time.sleep(60)"))
    try:
        supervisor.wait_for(
            lambda: "up" in capsys.readouterr().out, timeout=WAIT_SECONDS, what="up"
        )
    finally:
        started = time.monotonic()
        supervisor.stop_all(0.5)
    assert time.monotonic() - started < WAIT_SECONDS
    assert "stubborn | did not stop within" in capsys.readouterr().out
