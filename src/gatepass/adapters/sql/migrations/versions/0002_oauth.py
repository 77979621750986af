"""OAuth 2.0: the grants each client may use, and the client a session was issued to.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing clients keep doing what they could: client_credentials only.
    op.add_column(
        "clients",
        sa.Column("grant_types", sa.Text, nullable=False, server_default="client_credentials"),
    )
    op.add_column("sessions", sa.Column("oauth_client_id", sa.String(128)))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("oauth_client_id")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("grant_types")
