"""`kasal serve`: the API and one worker from one command, for platforms that run one
command per app (Databricks Apps: app.yaml at the repository's root).

Temporal and the database are external (``TEMPORAL_ADDRESS``, ``KASAL_DATABASE_URL``);
the database is migrated and seeded first, as docker-compose's ``setup`` does, which is
safe to repeat. The parts are `kasal` commands as `kasal dev` runs them (kasal/dev.py).
When either exits the other is stopped and the command exits 1, so that the platform
restarts the app; SIGTERM stops both and exits 0.
"""

from __future__ import annotations

import os

from kasal.dev import (
    STEP_TIMEOUT_SECONDS,
    STOP_TIMEOUT_SECONDS,
    child_environment,
    health_url,
    kasal_command,
)
from kasal.probes import NotReadyError, http_ok
from kasal.processes import interrupt_on_sigterm, signals_ignored
from kasal.settings import Settings
from kasal.supervisor import ChildExitedError, Supervisor

COLOURS = {"serve": "white", "db": "blue", "seed": "blue", "api": "green", "worker": "yellow"}
# The first start may wait for a cold database or Temporal; only the ready line waits.
READY_TIMEOUT_SECONDS = 300.0


def _serve(settings: Settings, supervisor: Supervisor) -> None:
    temporal = settings.TEMPORAL_ADDRESS or f"{settings.temporal_address} (TEMPORAL_ADDRESS unset)"
    supervisor.say("serve", f"using the Temporal server at {temporal}")
    supervisor.run("db", kasal_command("db", "upgrade"), timeout=STEP_TIMEOUT_SECONDS)
    supervisor.run("seed", kasal_command("seed"), timeout=STEP_TIMEOUT_SECONDS)
    supervisor.start("api", kasal_command("api"))
    supervisor.start("worker", kasal_command("worker"))
    supervisor.wait_for(
        lambda: http_ok(health_url(settings)),
        timeout=READY_TIMEOUT_SECONDS,
        what="the API to answer /healthz",
        interval=1.0,
    )
    supervisor.say(
        "serve",
        f"Kasal is serving on {settings.KASAL_HOST}:{settings.KASAL_PORT} "
        f"(sign-in: {settings.KASAL_AUTH})",
    )


def run(settings: Settings) -> int:
    """Serve until SIGTERM or Ctrl-C (exit code 0) or until a part fails (1)."""
    supervisor = Supervisor(child_environment(settings, os.environ), COLOURS)
    with interrupt_on_sigterm():
        try:
            _serve(settings, supervisor)
            supervisor.watch()
        except KeyboardInterrupt:
            supervisor.say("serve", "stopping")
            return 0
        except (ChildExitedError, NotReadyError) as error:
            supervisor.say("serve", f"{error}; stopping the rest")
            return 1
        finally:
            with signals_ignored():
                supervisor.stop_all(STOP_TIMEOUT_SECONDS)
