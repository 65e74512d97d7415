"""app.yaml (Databricks Apps) holds together: its shape is the one Databricks reads, its
command is a `kasal` command that exists, and every setting it sets is one Kasal reads,
with a value Kasal accepts. Secrets come from the app's resources, never the file."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from kasal.cli import app
from kasal.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"KASAL_DATABASE_URL", "KASAL_SECRET_KEY", "TEMPORAL_API_KEY"}
# Read by temporalio.envconfig (kasal/temporal_client.py), not by Settings.
TEMPORAL_ENVCONFIG = {"TEMPORAL_API_KEY"}
# A resource key: letters, digits, dashes and underscores.
RESOURCE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def env(manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    entries = manifest["env"]
    assert isinstance(entries, list)
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), names
    return {entry["name"]: entry for entry in entries}


def test_only_the_settings_databricks_reads(manifest: dict[str, Any]) -> None:
    assert set(manifest) <= {"command", "env"}


def test_the_command_is_kasal_serve_on_the_apps_port(manifest: dict[str, Any]) -> None:
    command = manifest["command"]
    # A sequence, run without a shell: every item a string.
    assert isinstance(command, list) and all(isinstance(word, str) for word in command)
    assert command[:3] == ["python", "-m", "kasal"]
    arguments = command[3:]
    # `serve` is a `kasal` command, and its options parse as the CLI's own.
    assert arguments[0] == "serve"
    serve: Any = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    # As Databricks runs it, with its port in place of $DATABRICKS_APP_PORT.
    expanded = [word.replace("$DATABRICKS_APP_PORT", "8000") for word in arguments[1:]]
    with serve.make_context("serve", expanded) as context:
        parsed = context.params
    assert parsed["port"] == 8000
    # Every interface, on the port Databricks gives the app (the one variable it expands).
    assert parsed["host"] == "0.0.0.0"
    assert arguments[arguments.index("--port") + 1] == "$DATABRICKS_APP_PORT"


def test_each_variable_has_a_value_or_a_resource(env: dict[str, dict[str, str]]) -> None:
    for name, entry in env.items():
        assert set(entry) in ({"name", "value"}, {"name", "valueFrom"}), entry
        assert isinstance(entry.get("value", ""), str), (name, "quote it: env values are strings")
        if "valueFrom" in entry:
            assert RESOURCE_KEY.match(entry["valueFrom"]), entry


def test_every_setting_is_one_kasal_reads_and_accepts(env: dict[str, dict[str, str]]) -> None:
    known = set(Settings.model_fields) | TEMPORAL_ENVCONFIG
    assert set(env) <= known, set(env) - known
    values = {name: entry["value"] for name, entry in env.items() if "value" in entry}
    settings = Settings.model_validate(values)  # these win over the environment
    assert settings.KASAL_AUTH == "proxy"


def test_secrets_and_the_external_services_come_from_resources(
    env: dict[str, dict[str, str]],
) -> None:
    for name in SECRETS | {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"}:
        assert "valueFrom" in env[name], name


def test_forwarded_identity_is_trusted_from_loopback_only(env: dict[str, dict[str, str]]) -> None:
    trusted = [part.strip() for part in env["KASAL_TRUSTED_PROXY"]["value"].split(",")]
    assert trusted
    for entry in trusted:
        network = ipaddress.ip_network(entry, strict=False)
        assert network.is_loopback, entry
