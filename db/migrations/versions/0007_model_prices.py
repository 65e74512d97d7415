"""Model configs may carry their own prices (USD per million tokens), which win over
litellm's price map.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_configs") as batch:
        batch.add_column(sa.Column("prices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_configs") as batch:
        batch.drop_column("prices")
