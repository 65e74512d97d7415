"""Model configs may limit their calls (max_concurrency, rpm) across every worker, with
leases in the database they share (db/model_limits.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_configs") as batch:
        batch.add_column(sa.Column("max_concurrency", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rpm", sa.Integer(), nullable=True))
    op.create_table(
        "model_call_leases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace", sa.String(length=100), nullable=False),
        sa.Column("config_name", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_call_leases"),
    )
    op.create_index(
        "ix_model_call_leases_config_started",
        "model_call_leases",
        ["workspace", "config_name", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_model_call_leases_config_started", table_name="model_call_leases")
    op.drop_table("model_call_leases")
    with op.batch_alter_table("model_configs") as batch:
        batch.drop_column("rpm")
        batch.drop_column("max_concurrency")
