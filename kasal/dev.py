"""`kasal dev`: the whole stack in one terminal, each part a child process of its own.

The children are `kasal` commands themselves, so what runs here is exactly what runs in
production, one process per part. They get the settings through the environment, so
every port and path they use is the one this process resolved.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from kasal import temporal_server
from kasal.probes import NotReadyError, http_ok
from kasal.processes import interrupt_on_sigterm, signals_ignored
from kasal.settings import Settings
from kasal.supervisor import ChildExitedError, Supervisor

COLOURS = {
    "dev": "white",
    "temporal": "cyan",
    "llm": "magenta",
    "db": "blue",
    "seed": "blue",
    "api": "green",
    "worker": "yellow",
}
TEMPORAL_READY_TIMEOUT_SECONDS = 60.0
STEP_TIMEOUT_SECONDS = 300.0
API_READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
# Where the worker serves /metrics under `kasal dev` (the port OpenTelemetry's Prometheus
# exporters use by convention), unless KASAL_WORKER_METRICS_PORT is set.
DEV_WORKER_METRICS_PORT = 9464

_ANY_ADDRESS = {"", "0.0.0.0", "::"}


def child_environment(settings: Settings, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` plus every resolved setting, so children cannot resolve them differently.

    A relative KASAL_DATA_DIR or a value from .env would otherwise depend on each
    child's working directory; unset optional settings stay unset.
    """
    env = dict(base)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[name] = str(value)
    env["PYTHONUNBUFFERED"] = "1"  # lines reach the terminal as they are written
    return env


def kasal_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kasal", *args]


def health_url(settings: Settings) -> str:
    """The API's /healthz as this machine reaches it (a wildcard bind means loopback)."""
    host = settings.KASAL_HOST
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.KASAL_PORT}/healthz"


def ready_message(settings: Settings, sign_in_link: str | None = None) -> str:
    app = settings.app_url
    opening = f"sign in {sign_in_link} | " if sign_in_link else ""
    return (
        f"Kasal is ready: {opening}app {app}/ | API docs {app}/docs | "
        f"Temporal Web {settings.temporal_ui_url}"
    )


def prepare_sign_in(settings: Settings) -> str:
    """The first admin (made on the first start), a one-time sign-in link for them, and
    a token for the `kasal` CLI on this machine when it has none that works here."""
    import asyncio

    from kasal.accounts import Accounts, dev_sign_in
    from kasal.client import Credentials, load_credentials, save_credentials

    accounts = Accounts(settings)

    async def prepare() -> str:
        try:
            stored = load_credentials()
            usable = (
                stored is not None
                and stored.url == settings.app_url
                and await accounts.identity.resolve(stored.token, ("token",)) is not None
            )
            signed = await dev_sign_in(settings, accounts, need_cli_token=not usable)
        finally:
            await accounts.close()
        if signed.cli_token is not None:
            save_credentials(Credentials(settings.app_url, signed.cli_token, signed.email))
        return signed.link

    return asyncio.run(prepare())


def _start_stack(settings: Settings, supervisor: Supervisor) -> None:
    if settings.TEMPORAL_ADDRESS is None:
        supervisor.start("temporal", kasal_command("temporal"))
        # The worker upserts Kasal's search attributes, so it waits for them, not just gRPC.
        target = temporal_server.local_target(settings)
        supervisor.wait_for(
            lambda: temporal_server.is_configured(target),
            timeout=TEMPORAL_READY_TIMEOUT_SECONDS,
            what="Temporal to be ready",
        )
    else:
        supervisor.say("dev", f"using the Temporal server at {settings.TEMPORAL_ADDRESS}")
    supervisor.start("llm", kasal_command("llm"))
    supervisor.run("db", kasal_command("db", "upgrade"), timeout=STEP_TIMEOUT_SECONDS)
    supervisor.run("seed", kasal_command("seed"), timeout=STEP_TIMEOUT_SECONDS)
    sign_in_link = prepare_sign_in(settings) if settings.KASAL_AUTH == "local" else None
    supervisor.start("api", kasal_command("api"))
    supervisor.start("worker", kasal_command("worker"))
    supervisor.wait_for(
        lambda: http_ok(health_url(settings)),
        timeout=API_READY_TIMEOUT_SECONDS,
        what="the API to answer /healthz",
        # Each probe is a line in the API's access log: keep them few.
        interval=1.0,
    )
    supervisor.say("dev", ready_message(settings, sign_in_link))


def supervise(
    settings: Settings,
    name: str,
    colours: Mapping[str, str],
    start: Callable[[Settings, Supervisor], None],
) -> int:
    """Start the parts with ``start``, then watch them until Ctrl-C or SIGTERM (exit code
    0) or until one fails (1); the rest are stopped either way. `kasal dev` and `kasal
    serve` differ only in what they start."""
    supervisor = Supervisor(child_environment(settings, os.environ), colours)
    with interrupt_on_sigterm():
        try:
            start(settings, supervisor)
            supervisor.watch()
        except KeyboardInterrupt:
            supervisor.say(name, "stopping")
            return 0
        except (ChildExitedError, NotReadyError) as error:
            supervisor.say(name, f"{error}; stopping the rest")
            return 1
        finally:
            with signals_ignored():
                supervisor.stop_all(STOP_TIMEOUT_SECONDS)


def with_worker_metrics(settings: Settings) -> Settings:
    """The settings, with the worker's /metrics on DEV_WORKER_METRICS_PORT unless the port
    was chosen (0 keeps it off)."""
    if "KASAL_WORKER_METRICS_PORT" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"KASAL_WORKER_METRICS_PORT": DEV_WORKER_METRICS_PORT})


def run(settings: Settings) -> int:
    """Run the stack until Ctrl-C or SIGTERM (exit code 0) or until a part fails (1)."""
    return supervise(with_worker_metrics(settings), "dev", COLOURS, _start_stack)
