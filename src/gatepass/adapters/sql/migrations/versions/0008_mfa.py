"""Second factors (issue 18): TOTP factors, recovery codes, pending MFA logins, org MFA policy,
and the authentication methods (`amr`) of a session.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "totp_factors",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("confirmed_at", sa.Double),
        sa.Column("last_step", sa.BigInteger),
        _user_fk("totp_factors"),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_factors"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("used_at", sa.Double),
        _user_fk("recovery_codes"),
        sa.PrimaryKeyConstraint("user_id", "digest", name="pk_recovery_codes"),
    )
    op.create_table(
        "mfa_challenges",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("password_digest", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text),
        sa.Column("resources", sa.Text),
        sa.Column("oauth_client", sa.String(256)),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        _user_fk("mfa_challenges"),
        sa.PrimaryKeyConstraint("digest", name="pk_mfa_challenges"),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.create_index("ix_mfa_challenges_expires_at", "mfa_challenges", ["expires_at"])
    op.create_table(
        "org_mfa_policies",
        sa.Column("org_uid", sa.String(128), nullable=False),
        sa.Column("require_mfa", sa.Boolean, nullable=False),
        sa.Column("dialects_without_mfa", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_uid"], ["orgs.uid"], name="fk_org_mfa_policies_org_uid_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_uid", name="pk_org_mfa_policies"),
    )
    # Sessions from before second factors existed were password (or machine) logins: NULL.
    op.add_column("sessions", sa.Column("amr", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("amr")
    op.drop_table("org_mfa_policies")
    op.drop_table("mfa_challenges")
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
