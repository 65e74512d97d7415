"""docker-compose.yml holds together: no Docker runs here, so its schema is checked instead.

These catch what `docker compose config` would, and what drifts as the code changes: a
setting the app no longer reads, a `kasal` command that no longer exists, a service
that depends on one that was renamed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from kasal.cli import app
from kasal.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
KASAL_SERVICES = ("setup", "api", "worker", "llm")
# "8000", "8000:8000", "127.0.0.1:8000:8000", optionally with /tcp or /udp.
PORT_MAPPING = re.compile(
    r"^(?:(?:\d{1,3}\.){3}\d{1,3}:)?(?:(\d{1,5}):)?(\d{1,5})(?:/(?:tcp|udp))?$"
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def depends_on(service: dict[str, Any]) -> list[str]:
    # Either a list of names or a mapping of name to condition.
    return list(service.get("depends_on", []))


def kasal_commands(service: dict[str, Any]) -> list[list[str]]:
    """Each `kasal …` invocation in the service's command, as arguments after `kasal`."""
    command = service.get("command", [])
    words = shlex.split(command) if isinstance(command, str) else list(command)
    steps = (
        [shlex.split(step) for step in words[2].split("&&")]
        if words[:2] == ["sh", "-c"]
        else [words]
    )
    return [step[1:] for step in steps if step[:1] == ["kasal"]]


def test_every_service_the_stack_needs_is_defined(services: dict[str, Any]) -> None:
    assert {"postgres", "temporal", *KASAL_SERVICES} <= services.keys()


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name
    for name in KASAL_SERVICES:
        assert services[name]["build"] == ".", name
    assert (ROOT / "Dockerfile").is_file()


def test_ports_are_valid_mappings(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert isinstance(port, str | int), (name, port)
            match = PORT_MAPPING.match(str(port))
            assert match, (name, port)
            assert all(0 < int(number) < 65536 for number in match.groups() if number), port
    assert "8000:8000" in services["api"]["ports"]
    assert {"127.0.0.1:7233:7233", "127.0.0.1:8233:8233"} <= set(services["temporal"]["ports"])


def test_dependencies_and_shared_networks_name_defined_services(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency in depends_on(service):
            assert dependency in services, (name, dependency)
        conditions = service.get("depends_on", {})
        if isinstance(conditions, dict):
            for dependency, rule in conditions.items():
                if rule.get("condition") == "service_healthy":
                    assert "healthcheck" in services[dependency], (name, dependency)
        network_mode = service.get("network_mode", "")
        if network_mode.startswith("service:"):
            assert network_mode.removeprefix("service:") in services, name


def test_the_worker_shares_the_local_models_loopback(services: dict[str, dict[str, Any]]) -> None:
    # The model binds 127.0.0.1 only, and the worker calls it there.
    assert services["worker"]["network_mode"] == "service:llm"
    llm_port = services["llm"]["environment"]["KASAL_LLM_PORT"]
    assert f"127.0.0.1:{llm_port}/health" in " ".join(services["llm"]["healthcheck"]["test"])


def test_kasal_settings_in_the_environment_are_ones_the_app_reads(
    services: dict[str, dict[str, Any]],
) -> None:
    fields = Settings.model_fields.keys()
    for name, service in services.items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name  # the mapping form, so merges work
        for key in environment:
            if key.startswith(("KASAL_", "TEMPORAL_")):
                assert key in fields, (name, key)


def test_the_app_runs_against_postgres_and_the_temporal_service(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in KASAL_SERVICES:
        environment = services[name]["environment"]
        assert environment["KASAL_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert "@postgres:5432/" in environment["KASAL_DATABASE_URL"], name
        assert environment["TEMPORAL_ADDRESS"] == "temporal:7233", name
        # Compose refuses to start without a secret key rather than run on a placeholder.
        assert environment["KASAL_SECRET_KEY"].startswith("${KASAL_SECRET_KEY:?"), name
    assert services["api"]["environment"]["KASAL_HOST"] == "0.0.0.0"


def test_commands_name_existing_kasal_commands(services: dict[str, dict[str, Any]]) -> None:
    invoked = []
    for name in KASAL_SERVICES:
        for args in kasal_commands(services[name]):
            command: Any = typer.main.get_command(app)
            for word in [w for w in args if not w.startswith("-")]:
                subcommands = getattr(command, "commands", {})
                assert word in subcommands, (name, args)
                command = subcommands[word]
            options = {opt for param in command.params for opt in param.opts}
            assert {w for w in args if w.startswith("-")} <= options, (name, args)
            invoked.append(" ".join(args))
    # The setup step leaves Temporal configured for the workers that start after it.
    expected = {"db upgrade", "seed", "temporal --configure-only", "api", "worker", "llm"}
    assert expected <= set(invoked)


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/", "~")):
                assert source in declared, (name, source)
    temporal = compose["services"]["temporal"]
    assert "/data/temporal.db" in temporal["command"]
    assert any(v.endswith(":/data") for v in temporal["volumes"])


def test_images_are_pinned_to_versions(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service.get("image", "")
        if service.get("build"):
            continue  # Kasal's own image, built from the Dockerfile below
        _, _, tag = image.partition(":")
        assert re.fullmatch(r"\d+(\.\d+)+", tag), (name, image)
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            assert re.search(r":\d+\.\d+\.\d+", line), line


def test_temporal_is_published_on_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for mapping in services["temporal"]["ports"]:
        assert mapping.startswith("127.0.0.1:"), mapping


def test_long_running_containers_are_not_root(services: dict[str, dict[str, Any]]) -> None:
    assert "\nUSER kasal\n" in (ROOT / "Dockerfile").read_text()
    for name, service in services.items():
        if service.get("build"):
            assert "user" not in service, name  # the image's own non-root user
            continue
        user = str(service.get("user", ""))
        if name == "temporal-data-owner":  # one chown of a new volume, then it exits
            assert service["command"][0] == "chown"
            continue
        assert user and not user.startswith(("0", "root")), (name, user)


def test_secrets_come_from_the_environment(services: dict[str, dict[str, Any]]) -> None:
    secret = re.compile(r"(PASSWORD|SECRET|_KEY)$")
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if secret.search(key):
                assert str(value).startswith("${") and ":?" in str(value), (name, key)
        url = (service.get("environment") or {}).get("KASAL_DATABASE_URL", "")
        assert not url or "${POSTGRES_PASSWORD:?" in url, name
