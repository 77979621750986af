"""Initial schema: orgs, roles, users, clients, API keys, sessions, keys, audit, revocations.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.Double


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("uid", name="pk_orgs"),
    )
    op.create_table(
        "roles",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_roles"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(256), nullable=False),
        sa.Column("username_key", sa.String(256), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("email_key", sa.String(320)),
        sa.Column("display_name", sa.String(256)),
        sa.Column("org_uid", sa.String(128)),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.ForeignKeyConstraint(["org_uid"], ["orgs.uid"], name="fk_users_org_uid_orgs"),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
        sa.UniqueConstraint("email_key", name="uq_users_email_key"),
    )
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("org_uid", sa.String(128)),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("secret_digest", sa.String(128), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_clients"),
        sa.ForeignKeyConstraint(["org_uid"], ["orgs.uid"], name="fk_clients_org_uid_orgs"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("display_prefix", sa.String(32), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time),
        sa.Column("last_used_at", Time),
        sa.Column("revoked_at", Time),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_keys_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("digest", name="uq_api_keys_digest"),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("org_uid", sa.String(128)),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("auth_method", sa.String(32), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("last_used_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("csrf_digest", sa.String(128)),
        sa.Column("refresh_jti", sa.String(64)),
        sa.Column("prev_refresh_jti", sa.String(64)),
        sa.Column("rotated_at", Time),
        sa.Column("access_jti", sa.String(64)),
        sa.Column("revoked_at", Time),
        sa.Column("revoke_reason", sa.String(64)),
        sa.Column("external_issuer", sa.String(512)),
        sa.Column("external_subject", sa.String(512)),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_index("ix_sessions_principal", "sessions", ["principal_kind", "principal_id"])
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.JSON),
        sa.Column("private_encrypted", sa.LargeBinary, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("retired_at", Time),
        sa.Column("publish_until", Time),
        sa.PrimaryKeyConstraint("kid", name="pk_signing_keys"),
    )
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("at", Time, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(256)),
        sa.Column("target", sa.String(256)),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(256)),
        sa.Column("surface", sa.String(32)),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_event", "audit_events", ["event"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_index("ix_audit_events_target", "audit_events", ["target"])
    op.create_table(
        "revocations",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("issued_before", Time),
        sa.PrimaryKeyConstraint("key", name="pk_revocations"),
    )
    op.create_index("ix_revocations_expires_at", "revocations", ["expires_at"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_meta"),
    )


def downgrade() -> None:
    for table in (
        "meta",
        "revocations",
        "audit_events",
        "signing_keys",
        "sessions",
        "api_keys",
        "clients",
        "users",
        "roles",
        "orgs",
    ):
        op.drop_table(table)
