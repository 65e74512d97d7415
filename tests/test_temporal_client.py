"""How Kasal connects to Temporal (kasal/temporal_client.py): the TLS, mTLS and API-key
settings of Temporal Cloud come from the names `temporalio.envconfig` and the `temporal`
CLI read, and Kasal's own settings win where they are set; a worker waits for a server
that does not answer yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from kasal.binaries import temporal_cli
from kasal.settings import Settings
from kasal.temporal_client import connect_config
from kasal.temporal_server import server_command
from tests.api_stack import ApiStack
from tests.conftest import free_port
from tests.helpers import eventually
from tests.test_metrics import log_of
from tests.worker_process import WorkerProcess

CLOUD = "kasal-test.a1b2c.tmprl.cloud:7233"


def external(**fields: object) -> Settings:
    return Settings(_env_file=None, TEMPORAL_ADDRESS=CLOUD, **fields)  # type: ignore[arg-type]


def test_an_api_key_turns_tls_on() -> None:
    config = connect_config(
        external(), {"TEMPORAL_API_KEY": "key-123", "TEMPORAL_NAMESPACE": "kasal.a1b2c"}
    )
    assert config == {
        "target_host": CLOUD,
        "namespace": "kasal.a1b2c",
        "api_key": "key-123",
        "tls": True,
    }


def test_mtls_reads_the_client_certificate_and_key_files(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "client.pem", tmp_path / "client.key", tmp_path / "ca.pem"
    cert.write_bytes(b"CLIENT CERT")
    key.write_bytes(b"CLIENT KEY")
    ca.write_bytes(b"SERVER CA")
    config = connect_config(
        external(),
        {
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(key),
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(ca),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
            "TEMPORAL_GRPC_META_X_TENANT": "kasal",
        },
    )
    tls = config["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"CLIENT CERT"
    assert tls.client_private_key == b"CLIENT KEY"
    assert tls.server_root_ca_cert == b"SERVER CA"
    assert tls.domain == "temporal.internal"
    assert "api_key" not in config
    assert config["rpc_metadata"] == {"x-tenant": "kasal"}


def test_inline_certificate_data_and_plain_tls() -> None:
    config = connect_config(
        external(),
        {"TEMPORAL_TLS_CLIENT_CERT_DATA": "CERT", "TEMPORAL_TLS_CLIENT_KEY_DATA": "KEY"},
    )
    tls = config["tls"]
    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key) == (b"CERT", b"KEY")
    assert isinstance(connect_config(external(), {"TEMPORAL_TLS": "true"})["tls"], TLSConfig)


def test_kasals_settings_win_where_they_are_set() -> None:
    environ = {"TEMPORAL_ADDRESS": "elsewhere:7233", "TEMPORAL_NAMESPACE": "theirs"}
    config = connect_config(external(TEMPORAL_NAMESPACE="ours"), environ)
    assert (config["target_host"], config["namespace"]) == (CLOUD, "ours")
    # Not set: the profile's namespace stands, and without one Kasal's default.
    assert connect_config(external(), environ)["namespace"] == "theirs"
    assert connect_config(external(), {})["namespace"] == "default"


def test_the_local_dev_server_is_plain_whatever_the_environment_says() -> None:
    settings = Settings(_env_file=None, TEMPORAL_ADDRESS=None, KASAL_TEMPORAL_PORT=7999)
    config = connect_config(settings, {"TEMPORAL_API_KEY": "key", "TEMPORAL_TLS": "true"})
    assert config == {"target_host": "127.0.0.1:7999", "namespace": "default"}


def test_kasal_dev_gives_temporal_web_the_codec_server_when_encryption_is_on() -> None:
    plain = Settings(_env_file=None, KASAL_PAYLOAD_ENCRYPTION_KEY=None, KASAL_PORT=8123)
    assert "--ui-codec-endpoint" not in server_command(plain)
    encrypted = plain.model_copy(update={"KASAL_PAYLOAD_ENCRYPTION_KEY": SecretStr("k")})
    command = server_command(encrypted)
    endpoint = command[command.index("--ui-codec-endpoint") + 1]
    assert endpoint == f"{plain.app_url}/api/v1/codec"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_worker_started_before_its_server_waits_for_it_then_polls(
    api: ApiStack, tmp_path: Path
) -> None:
    """A worker whose server is down at its start (restarting, or started after it by a
    supervisor) keeps trying instead of exiting, and polls once the server answers."""
    port = free_port()
    settings = api.settings.model_copy(
        update={"TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "KASAL_TASK_QUEUE": "waits-for-server"}
    )
    process = WorkerProcess(settings, tmp_path / "worker.log").start()
    try:
        await eventually(log_of(process), lambda text: "does not answer" in text, timeout=120)
        assert not process.exited()
        server = await WorkflowEnvironment.start_local(
            port=port, dev_server_existing_path=str(temporal_cli())
        )
        try:
            await eventually(log_of(process), lambda text: "worker polling" in text, timeout=120)
        finally:
            await server.shutdown()
    finally:
        process.stop()
