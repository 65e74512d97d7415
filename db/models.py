"""Tables: workflow definitions with immutable versions, model configs, tools and MCP servers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

# The shared workspace: seeds go here, and rows from before workspaces existed.
DEFAULT_WORKSPACE = "default"


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # A name is unique among a workspace's live workflows; archiving frees it.
        Index(
            "uq_workflows_live_name",
            "workspace",
            "name",
            unique=True,
            sqlite_where=text("NOT archived"),
            postgresql_where=text("NOT archived"),
        ),
    )


class WorkflowVersion(Base):
    """One immutable version of a definition: rows are inserted, never updated."""

    __tablename__ = "workflow_versions"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("workflows.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    layout: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelConfigRow(Base):
    __tablename__ = "model_configs"

    workspace: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE
    )
    name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(300))
    api_base: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Fernet ciphertext; the key is KASAL_SECRET_KEY or a key file in the data dir.
    api_key_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    temperature: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "auto" asks litellm's model map; "native" and "react" say how agents call tools.
    function_calling: Mapped[str] = mapped_column(String(10), default="auto", server_default="auto")
    # ModelPrices as JSON; null: litellm's price map (or 0 for a local model) prices calls.
    prices: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Limits on its calls across every worker (db/model_limits.py); null: none.
    max_concurrency: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rpm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("workspace", "name", name="pk_model_configs"),)


class Blob(Base):
    """A large value kept out of Temporal's history: a step's output over the inline
    limit, or a transcript. Histories carry only the blob's id."""

    __tablename__ = "blobs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[str] = mapped_column(String(200), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    # A Temporal payload's serialized bytes (kind "payload", see db/payload_store.py);
    # its content is then empty.
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ToolRow(Base):
    """A custom HTTP tool. Its version goes up on every update; plans pin one version."""

    __tablename__ = "tools"

    workspace: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE
    )
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    # An HttpToolSpec dump (without secret values) plus "args_schema" and "idempotent".
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Fernet ciphertext of a JSON object {header: value}.
    secret_headers_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("workspace", "name", name="pk_tools"),)


class McpServerRow(Base):
    """An MCP server; its tools are listed by probing it from a worker."""

    __tablename__ = "mcp_servers"

    workspace: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE
    )
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    transport: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    command: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Fernet ciphertext of a JSON object {header: value}.
    secret_headers_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    timeout_seconds: Mapped[float] = mapped_column(Float, default=30)
    # The tools (ToolInfo dumps) the last successful probe listed; None until one succeeds.
    tools_cache: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (PrimaryKeyConstraint("workspace", "name", name="pk_mcp_servers"),)


class CallJournalRow(Base):
    """One LLM or tool call of a step: what was asked, and once it finished, the answer.

    Keyed by run, step, execution, call index and a hash of the request, so a retried
    attempt of the same execution finds the calls that already finished and replays them.
    """

    __tablename__ = "call_journal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace: Mapped[str] = mapped_column(String(100), default="default", server_default="default")
    run_id: Mapped[str] = mapped_column(String(200), index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    execution: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # "llm" | "tool"
    call_index: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # "intent" | "done"
    attempt: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "run_id",
            "step_id",
            "execution",
            "kind",
            "call_index",
            "request_hash",
            name="uq_call_journal_call",
        ),
    )


class User(Base):
    """A person (or, signed in through a proxy or OIDC, an identity the issuer vouches for)."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Stored lowercased: one person, one row, however they type it.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # argon2 (pwdlib); None for users who sign in by link, OIDC or proxy only.
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkspaceRow(Base):
    """Where definitions, model configs, tools, MCP servers, blobs and runs live.

    The shared workspace seeds go to has the id and name ``default``; others get a
    random id. A personal workspace names its owner."""

    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    personal_of: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What its runs' LLM calls may cost in a calendar month (UTC); null: no cap.
    max_cost_micros_per_month: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Membership(Base):
    __tablename__ = "memberships"

    workspace_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Credential(Base):
    """A secret a user holds: a session cookie, a personal API token or a one-time
    sign-in link. Only its sha256 is stored; the secret itself is shown once."""

    __tablename__ = "credentials"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))  # "session" | "token" | "link"
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # A session remembers the workspace its user chose (the SSE stream cannot send headers).
    workspace_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when revoked (tokens), signed out (sessions) or used (links): never valid again.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """Who did what, when, from where. Rows are inserted, never updated or deleted; the
    actor's email is copied, so that deleting a user keeps their name here."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(1000), default="")
    workspace: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LlmUsageRow(Base):
    """One LLM call a step really made, never one replayed from the call journal: what it
    used and cost, and whose it was. The usage page sums these; they outlive the run's
    history and its journal, and a fork's copied steps add none (it paid nothing for them)."""

    __tablename__ = "llm_usage"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[str] = mapped_column(String(200))
    step_id: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(64))
    workflow_name: Mapped[str] = mapped_column(String(200))
    model_config_name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(300))  # the litellm model string
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cached_tokens: Mapped[int] = mapped_column(Integer)
    total_tokens: Mapped[int] = mapped_column(Integer)
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Every question the usage page asks is one workspace over a span of time.
    __table_args__ = (Index("ix_llm_usage_workspace_created_at", "workspace", "created_at"),)


class LiveTokenRow(Base):
    """The text so far of one LLM call that is streaming (db/live_tokens.py): a page
    opened mid-step starts from it, and on SQLite the API polls it. The row goes when
    the call ends; the call journal keeps the finished reply."""

    __tablename__ = "live_tokens"

    run_id: Mapped[str] = mapped_column(String(200))
    step_id: Mapped[str] = mapped_column(String(64))
    execution: Mapped[int] = mapped_column(Integer)
    call_index: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)  # sealed like a blob when there is a cipher
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("run_id", "step_id", "execution", "call_index", name="pk_live_tokens"),
    )


class ModelCallLeaseRow(Base):
    """One LLM call's hold on its model config's limits: in flight until released (or,
    for a worker that died, until it expires), and counted against ``rpm`` for a minute
    from its start."""

    __tablename__ = "model_call_leases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    workspace: Mapped[str] = mapped_column(String(100))
    config_name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_model_call_leases_config_started", "workspace", "config_name", "started_at"),
    )
