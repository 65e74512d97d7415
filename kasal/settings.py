"""Every setting Kasal reads, in one place, from the environment (and a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    KASAL_DATA_DIR: Path = Path(".kasal")
    KASAL_HOST: str = "127.0.0.1"
    KASAL_PORT: int = 8000
    KASAL_TEMPORAL_PORT: int = 7233
    KASAL_TEMPORAL_UI_PORT: int = 8233
    KASAL_LLM_PORT: int = 8090
    KASAL_DATABASE_URL: str | None = None
    # How long an API request waits for one of the pool's database connections before
    # it answers 503 with Retry-After (an overloaded API sheds load rather than queue).
    KASAL_DATABASE_POOL_TIMEOUT_SECONDS: float = Field(default=10, gt=0)
    KASAL_SECRET_KEY: str | None = None
    KASAL_RUN_RETENTION_DAYS: int = Field(default=30, ge=1)
    # How often the schedule `kasal-blob-retention` deletes the blobs of runs Temporal has
    # dropped (workflows/retention_workflow.py); set when the schedule is first created.
    KASAL_BLOB_RETENTION_INTERVAL_HOURS: int = Field(default=24, ge=1)
    # Set to use an external Temporal server; then `kasal dev` starts none.
    TEMPORAL_ADDRESS: str | None = None
    KASAL_TEMPORAL_UI_URL: str | None = None
    # A run's trace in a trace viewer, `{trace_id}` filled in (e.g.
    # http://127.0.0.1:16686/trace/{trace_id}); the run console links to it. Tracing itself
    # is on when OTEL_EXPORTER_OTLP_ENDPOINT is set (kasal/tracing.py).
    KASAL_TRACE_URL_TEMPLATE: str | None = None
    # Where people open Kasal, for links in notifications; defaults to host and port.
    KASAL_APP_URL: str | None = None
    # Called when a run waits for approval, needs attention, or closes (unless the
    # definition names its own notify.webhook_url).
    KASAL_WEBHOOK_URL: str | None = None
    # A Slack-compatible incoming webhook told when a gate waits for its approvers
    # (unless the definition names its own notify.slack_webhook_url).
    KASAL_SLACK_WEBHOOK_URL: str | None = None
    # Email to approvers (activities/approver_email.py): off without a host.
    KASAL_SMTP_HOST: str | None = None
    KASAL_SMTP_PORT: int = 587
    KASAL_SMTP_USERNAME: str | None = None
    KASAL_SMTP_PASSWORD: SecretStr | None = None
    KASAL_SMTP_FROM: str = "kasal@localhost"
    KASAL_SMTP_STARTTLS: bool = True
    TEMPORAL_NAMESPACE: str = "default"
    KASAL_TASK_QUEUE: str = "kasal"
    # Base64 of 32 bytes: when set, every Temporal payload is AES-GCM encrypted before it
    # leaves the process, so Temporal and the blob store keep ciphertext (db/payload_codec.py).
    KASAL_PAYLOAD_ENCRYPTION_KEY: SecretStr | None = None
    # Earlier encryption keys (comma-separated base64), kept only to read what they sealed.
    KASAL_PAYLOAD_DECRYPTION_KEYS: SecretStr = SecretStr("")
    # The built frontend the API serves at /; by default the repository's frontend/dist.
    KASAL_FRONTEND_DIR: Path | None = None
    # One worker process holds this many task steps in flight (the SDK's default is 100).
    KASAL_MAX_CONCURRENT_ACTIVITIES: int = Field(default=2000, ge=1)
    # On SIGTERM or SIGINT a worker takes no new steps and gives those in flight this
    # long to finish and report before it cancels them (they are then retried elsewhere).
    KASAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS: float = Field(default=30, ge=0)
    # `python -m worker` loads its modules once and forks the worker from them, then forks
    # another at once when the worker is killed (worker/supervisor.py; Linux only). Off:
    # the worker is the process itself, and whatever started it starts it again.
    KASAL_WORKER_SUPERVISOR: bool = True
    # The worker serves Prometheus /metrics on this port of KASAL_HOST (README, Metrics);
    # 0 is off. `kasal dev` turns it on at 9464 unless it is set (kasal/dev.py).
    KASAL_WORKER_METRICS_PORT: int = Field(default=0, ge=0, le=65535)
    # Hosts and networks (comma-separated, like "127.0.0.1,10.0.0.0/8,wiki.internal") that
    # the fetch_url tool may reach although they are not public addresses.
    KASAL_FETCH_ALLOW: str = ""
    # The database the sql_query tool reads, read-only; never Kasal's own.
    KASAL_SQL_TOOL_DATABASE_URL: str | None = None
    # stdio MCP servers run a command on the worker's host: off unless the operator allows it.
    KASAL_ALLOW_STDIO_MCP: bool = False
    # The egress policy for URLs people configure (models, webhooks, HTTP tools, MCP
    # servers; workflows/egress.py), hosts and networks in KASAL_FETCH_ALLOW's style:
    # DENY is refused; ALLOW, when set, is the only non-public destinations allowed.
    KASAL_EGRESS_DENY: str = ""
    KASAL_EGRESS_ALLOW: str = ""
    # Request bodies above this answer 413 (api/limits.py lists the other limits).
    KASAL_MAX_REQUEST_BYTES: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Host names (comma-separated) the API answers; "*" for any. By default localhost,
    # 127.0.0.1, ::1 and KASAL_HOST; KASAL_APP_URL's host always (api/middleware.py).
    KASAL_ALLOWED_HOSTS: str = ""

    # How people sign in: "local" (users in the database), "oidc" or "proxy" (README).
    KASAL_AUTH: Literal["local", "oidc", "proxy"] = "local"
    # The first admin `kasal dev` creates, who signs in by the link in the ready line.
    KASAL_ADMIN_EMAIL: str = "admin@kasal.local"
    KASAL_SESSION_HOURS: int = Field(default=24 * 7, ge=1)
    # Addresses and networks (comma-separated) whose X-Forwarded-Email headers are trusted
    # in proxy mode; nobody's when empty.
    KASAL_TRUSTED_PROXY: str = ""
    KASAL_OIDC_ISSUER: str | None = None
    KASAL_OIDC_AUDIENCE: str | None = None
    KASAL_OIDC_CLIENT_ID: str | None = None
    KASAL_OIDC_CLIENT_SECRET: str | None = None

    @field_validator("KASAL_DATA_DIR")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def temporal_address(self) -> str:
        return self.TEMPORAL_ADDRESS or f"127.0.0.1:{self.KASAL_TEMPORAL_PORT}"

    @property
    def temporal_ui_url(self) -> str:
        return (
            self.KASAL_TEMPORAL_UI_URL or f"http://127.0.0.1:{self.KASAL_TEMPORAL_UI_PORT}"
        ).rstrip("/")

    @property
    def frontend_dir(self) -> Path:
        return (
            self.KASAL_FRONTEND_DIR or Path(__file__).resolve().parent.parent / "frontend" / "dist"
        )

    @property
    def app_url(self) -> str:
        return (self.KASAL_APP_URL or f"http://{self.KASAL_HOST}:{self.KASAL_PORT}").rstrip("/")

    @property
    def database_url(self) -> str:
        return self.KASAL_DATABASE_URL or f"sqlite+aiosqlite:///{self.KASAL_DATA_DIR / 'kasal.db'}"

    @property
    def local_llm_url(self) -> str:
        return f"http://127.0.0.1:{self.KASAL_LLM_PORT}/v1"


@lru_cache
def get_settings() -> Settings:
    return Settings()
