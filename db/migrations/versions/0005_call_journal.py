"""The call journal (one record per LLM or tool call of a step), and how a model config
calls tools (function_calling).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_journal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace", sa.String(length=100), server_default="default", nullable=False),
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("execution", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("call_index", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_journal"),
        sa.UniqueConstraint(
            "run_id",
            "step_id",
            "execution",
            "kind",
            "call_index",
            "request_hash",
            name="uq_call_journal_call",
        ),
    )
    op.create_index("ix_call_journal_run_id", "call_journal", ["run_id"])
    with op.batch_alter_table("model_configs") as batch:
        batch.add_column(
            sa.Column(
                "function_calling", sa.String(length=10), server_default="auto", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("model_configs") as batch:
        batch.drop_column("function_calling")
    op.drop_index("ix_call_journal_run_id", table_name="call_journal")
    op.drop_table("call_journal")
