"""OpenID Connect provider (issue 17): OIDC client fields, authorization codes, sign-in
sessions and consents.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_CLIENT_COLUMNS = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "web_origins",
    "public",
    "first_party",
    "id_token_alg",
)


def upgrade() -> None:
    # Existing clients are confidential, third-party, and have no redirect URI: they cannot
    # use the authorization endpoint until one is registered.
    for name in ("redirect_uris", "post_logout_redirect_uris", "web_origins"):
        op.add_column("clients", sa.Column(name, sa.Text, nullable=False, server_default=""))
    for name in ("public", "first_party"):
        op.add_column(
            "clients", sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.add_column(
        "clients",
        sa.Column("id_token_alg", sa.String(16), nullable=False, server_default="RS256"),
    )
    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("resources", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.String(128)),
        sa.Column("code_challenge_method", sa.String(16)),
        sa.Column("nonce", sa.Text),
        sa.Column("signin_session_id", sa.String(64), nullable=False),
        sa.Column("auth_time", sa.Double, nullable=False),
        sa.Column("amr", sa.Text, nullable=False),
        sa.Column("acr", sa.String(128)),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("consumed_at", sa.Double),
        sa.Column("session_id", sa.String(64)),
        sa.PrimaryKeyConstraint("code_hash", name="pk_authorization_codes"),
    )
    op.create_index("ix_authorization_codes_expires_at", "authorization_codes", ["expires_at"])
    op.create_table(
        "signin_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("secret_digest", sa.String(128), nullable=False),
        sa.Column("auth_time", sa.Double, nullable=False),
        sa.Column("amr", sa.Text, nullable=False),
        sa.Column("acr", sa.String(128)),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("ended_at", sa.Double),
        sa.PrimaryKeyConstraint("id", name="pk_signin_sessions"),
    )
    op.create_index("ix_signin_sessions_user_id", "signin_sessions", ["user_id"])
    op.create_index("ix_signin_sessions_expires_at", "signin_sessions", ["expires_at"])
    op.create_table(
        "consents",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Double, nullable=False),
        sa.Column("revoked_at", sa.Double),
        sa.PrimaryKeyConstraint("user_id", "client_id", name="pk_consents"),
    )
    op.create_index("ix_consents_client_id", "consents", ["client_id"])


def downgrade() -> None:
    op.drop_table("consents")
    op.drop_table("signin_sessions")
    op.drop_table("authorization_codes")
    with op.batch_alter_table("clients") as batch:
        for name in reversed(_CLIENT_COLUMNS):
            batch.drop_column(name)
