"""Login throttling in the database, for several processes sharing it without Redis.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Time = sa.Double


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_throttle_counters"),
    )
    op.create_index("ix_throttle_counters_expires_at", "throttle_counters", ["expires_at"])
    op.create_table(
        "throttle_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_throttle_hits"),
    )
    op.create_index("ix_throttle_hits_key_at", "throttle_hits", ["key", "at"])
    op.create_index("ix_throttle_hits_expires_at", "throttle_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_table("throttle_hits")
    op.drop_table("throttle_counters")
