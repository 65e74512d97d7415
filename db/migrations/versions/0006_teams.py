"""Teams: users, workspaces and their members, credentials (sessions, API tokens,
sign-in links), the audit log; definitions and model configs move into workspaces.

Every existing row goes to the shared workspace ``default``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime, utcnow

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    workspaces = op.create_table(
        "workspaces",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("personal_of", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["personal_of"],
            ["users.id"],
            name="fk_workspaces_personal_of_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("name", name="uq_workspaces_name"),
    )
    op.bulk_insert(workspaces, [{"id": "default", "name": "default", "created_at": utcnow()}])
    op.create_table(
        "memberships",
        sa.Column("workspace_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_memberships_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name="pk_memberships"),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_credentials_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        sa.UniqueConstraint("secret_hash", name="uq_credentials_secret_hash"),
    )
    op.create_index("ix_credentials_user_id", "credentials", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=True),
        sa.Column("source_ip", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    # A definition's name is unique among the live ones of its workspace.
    op.drop_index("uq_workflows_live_name", table_name="workflows")
    with op.batch_alter_table("workflows") as batch:
        batch.add_column(
            sa.Column("workspace", sa.String(length=100), server_default="default", nullable=False)
        )
    op.create_index(
        "uq_workflows_live_name",
        "workflows",
        ["workspace", "name"],
        unique=True,
        sqlite_where=sa.text("NOT archived"),
        postgresql_where=sa.text("NOT archived"),
    )
    # A model config's name is unique within its workspace.
    with op.batch_alter_table("model_configs") as batch:
        batch.add_column(
            sa.Column("workspace", sa.String(length=100), server_default="default", nullable=False)
        )
        batch.drop_constraint("pk_model_configs", type_="primary")
        batch.create_primary_key("pk_model_configs", ["workspace", "name"])


def downgrade() -> None:
    with op.batch_alter_table("model_configs") as batch:
        batch.drop_constraint("pk_model_configs", type_="primary")
        batch.create_primary_key("pk_model_configs", ["name"])
        batch.drop_column("workspace")
    op.drop_index("uq_workflows_live_name", table_name="workflows")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("workspace")
    op.create_index(
        "uq_workflows_live_name",
        "workflows",
        ["name"],
        unique=True,
        sqlite_where=sa.text("NOT archived"),
        postgresql_where=sa.text("NOT archived"),
    )
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_credentials_user_id", table_name="credentials")
    op.drop_table("credentials")
    op.drop_table("memberships")
    op.drop_table("workspaces")
    op.drop_table("users")
