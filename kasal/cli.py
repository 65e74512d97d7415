"""The `kasal` command: each part of the stack as a command, and `kasal dev` for all of them.

Commands import what they run inside their own body: `kasal --help` must not wait for
CrewAI, litellm or temporalio to load.
"""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from kasal import cli_accounts, cli_runs, cli_workflows
from kasal.cli_import import import_files
from kasal.settings import get_settings

app = typer.Typer(
    name="kasal",
    help="Kasal: AI-agent workflows that survive anything.",
    no_args_is_help=True,
    # `kasal --install-completion` (bash, zsh, fish, PowerShell) completes commands and options.
    add_completion=True,
)
db_app = typer.Typer(help="Manage Kasal's database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_accounts.user_app, name="user")
app.add_typer(cli_accounts.token_app, name="token")
app.add_typer(cli_accounts.workspace_app, name="workspace")
app.command()(cli_accounts.login)
app.command()(cli_accounts.logout)
app.command()(cli_accounts.whoami)
cli_runs.register(app)
cli_workflows.register(app)
app.command(name="import")(import_files)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg="red")
    return typer.Exit(1)


@app.command()
def temporal(
    configure_only: Annotated[
        bool,
        typer.Option(
            "--configure-only",
            help="Start no server: configure the one at TEMPORAL_ADDRESS (e.g. in "
            "docker-compose) with Kasal's search attributes and retention, then exit.",
        ),
    ] = False,
) -> None:
    """Run the Temporal dev server, configured for Kasal, until Ctrl-C."""
    from kasal import temporal_server
    from kasal.probes import NotReadyError
    from kasal.processes import interrupt_on_sigterm, signals_ignored

    settings = get_settings()
    if configure_only:
        target = temporal_server.configured_target(settings)
        try:
            temporal_server.wait_until_serving(target)
            temporal_server.configure(target, settings.KASAL_RUN_RETENTION_DAYS)
        except (temporal_server.TemporalServerError, NotReadyError) as error:
            raise _fail(str(error)) from error
        typer.echo(f"Temporal at {target.address} is configured for Kasal")
        return

    with interrupt_on_sigterm():
        process = temporal_server.start(settings)
        try:
            temporal_server.wait_until_ready(settings, process)
            temporal_server.configure(
                temporal_server.local_target(settings), settings.KASAL_RUN_RETENTION_DAYS
            )
            typer.echo(temporal_server.ready_message(settings))
            code = process.wait()
            raise _fail(f"the Temporal dev server exited with code {code}")
        except KeyboardInterrupt:
            pass
        except (temporal_server.TemporalServerError, NotReadyError) as error:
            raise _fail(str(error)) from error
        finally:
            with signals_ignored():
                temporal_server.stop(process)


@app.command()
def llm() -> None:
    """Serve the bundled SmolLM2 model on 127.0.0.1:KASAL_LLM_PORT until Ctrl-C."""
    from activities.local_model import LocalModelServer
    from kasal.probes import NotReadyError
    from kasal.processes import interrupt_on_sigterm, signals_deferred

    _configure_logging()
    port = get_settings().KASAL_LLM_PORT
    server = LocalModelServer(port)
    with interrupt_on_sigterm():
        try:
            # xllamacpp hangs when its server is dropped while the model still loads, so
            # Ctrl-C and SIGTERM wait until start() has seen the model answer.
            with signals_deferred():
                server.start()
            typer.echo(f"local model ready at {server.api_base}")
            while True:
                signal.pause()
        except KeyboardInterrupt:
            pass
        except NotReadyError as error:
            raise _fail(str(error)) from error
        finally:
            server.stop()


@app.command()
def api() -> None:
    """Serve the HTTP API and the app on KASAL_HOST:KASAL_PORT."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "api.main:create_app", factory=True, host=settings.KASAL_HOST, port=settings.KASAL_PORT
    )


@app.command()
def worker() -> None:
    """Run the Temporal worker: AgentWorkflow and its task steps."""
    from worker.main import main

    main()


@app.command()
def seed() -> None:
    """Fill the database with the data Kasal starts with (safe to repeat)."""
    import asyncio

    from db.seed import seed as seed_database

    _configure_logging()
    asyncio.run(seed_database(get_settings()))


@db_app.command()
def upgrade() -> None:
    """Migrate the database to the newest schema."""
    from db.migrate import upgrade_to_head

    _configure_logging()
    upgrade_to_head(get_settings().database_url)


@app.command()
def dev() -> None:
    """Run everything (Temporal, the model, the API and a worker) in this terminal."""
    from kasal.dev import run

    raise typer.Exit(run(get_settings()))


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen here instead of KASAL_HOST (0.0.0.0: everywhere).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Listen here instead of KASAL_PORT.")] = None,
) -> None:
    """Run the API and a worker against an external Temporal and database (Databricks Apps)."""
    from kasal.serve import run

    chosen = {"KASAL_HOST": host, "KASAL_PORT": port}
    settings = get_settings().model_copy(
        update={name: value for name, value in chosen.items() if value is not None}
    )
    raise typer.Exit(run(settings))
