"""Known addresses: the client addresses that signed in to an account successfully (issue 22).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "known_addresses",
        sa.Column("account", sa.String(400), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("account", "address", name="pk_known_addresses"),
    )
    op.create_index("ix_known_addresses_expires_at", "known_addresses", ["expires_at"])


def downgrade() -> None:
    op.drop_table("known_addresses")
