"""`kasal serve`: the API and one worker from one command, for platforms that run one
command per app (Databricks Apps: app.yaml at the repository's root).

Temporal and the database are external (``TEMPORAL_ADDRESS``, ``KASAL_DATABASE_URL``);
the database is migrated and seeded first, as docker-compose's ``setup`` does, which is
safe to repeat. The parts are `kasal` commands as `kasal dev` runs them (kasal/dev.py).
When either exits the other is stopped and the command exits 1, so that the platform
restarts the app; SIGTERM stops both and exits 0.
"""

from __future__ import annotations

from kasal.dev import STEP_TIMEOUT_SECONDS, health_url, kasal_command, supervise
from kasal.probes import http_ok
from kasal.settings import Settings
from kasal.supervisor import Supervisor

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
    return supervise(settings, "serve", COLOURS, _serve)
