"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly this (a test checks).

Scopes and role lists are space-separated text (scope tokens cannot contain spaces); times are
POSIX seconds as double precision; usernames and emails also have a case-folded key column so
lookups are case-insensitive on every backend. Text columns refuse text no backend can hold
(NUL, lone surrogates: `types.py`).
"""

from __future__ import annotations

import sqlalchemy as sa

from gatepass.adapters.sql.types import String, Text

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Time = sa.Double

orgs = sa.Table(
    "orgs",
    metadata,
    sa.Column("uid", String(128), primary_key=True),
    sa.Column("name", String(256), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("name", String(128), primary_key=True),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("description", Text(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", String(64), primary_key=True),
    sa.Column("username", String(256), nullable=False),
    sa.Column("username_key", String(256), nullable=False, unique=True),
    sa.Column("email", String(320)),
    sa.Column("email_key", String(320), unique=True),
    sa.Column("display_name", String(256)),
    sa.Column("org_uid", String(128), sa.ForeignKey("orgs.uid")),
    sa.Column("roles", Text(), nullable=False),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("password_hash", Text()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # 0009: the address whose verification link the user followed (see User.email_verified)
    sa.Column("verified_email", String(320)),
)

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("client_id", String(128), primary_key=True),
    sa.Column("name", String(256), nullable=False),
    sa.Column("org_uid", String(128), sa.ForeignKey("orgs.uid")),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("secret_digest", String(128), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # 0002: OAuth grants the client may use, space-separated
    sa.Column("grant_types", Text(), nullable=False, server_default="client_credentials"),
    # 0007 (OpenID Connect): space-separated URIs and origins (neither holds a space)
    sa.Column("redirect_uris", Text(), nullable=False, server_default=""),
    sa.Column("post_logout_redirect_uris", Text(), nullable=False, server_default=""),
    sa.Column("web_origins", Text(), nullable=False, server_default=""),
    sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("first_party", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("id_token_alg", String(16), nullable=False, server_default="RS256"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", String(64), primary_key=True),
    sa.Column(
        "user_id",
        String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", String(256), nullable=False),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("digest", String(128), nullable=False, unique=True),
    sa.Column("display_prefix", String(32), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time),
    sa.Column("last_used_at", Time),
    sa.Column("revoked_at", Time),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", String(64), primary_key=True),
    sa.Column("principal_kind", String(16), nullable=False),
    sa.Column("principal_id", String(128), nullable=False),
    sa.Column("subject", String(256), nullable=False),
    sa.Column("org_uid", String(128)),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("auth_method", String(32), nullable=False),
    sa.Column("profile", String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("client_ip", String(64)),
    sa.Column("user_agent", String(512)),
    sa.Column("csrf_digest", String(128)),
    sa.Column("refresh_jti", String(64)),
    sa.Column("prev_refresh_jti", String(64)),
    sa.Column("rotated_at", Time),
    sa.Column("access_jti", String(64)),
    sa.Column("revoked_at", Time),
    sa.Column("revoke_reason", String(64)),
    sa.Column("external_issuer", String(512)),
    sa.Column("external_subject", String(512)),
    sa.Column("oauth_client_id", String(128)),  # 0002
    sa.Column("resources", Text()),  # 0006: space-separated resource URIs (RFC 8707)
    sa.Column("amr", Text()),  # 0008: the login's RFC 8176 methods, space-separated
    sa.Index("ix_sessions_principal", "principal_kind", "principal_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", String(64), primary_key=True),
    sa.Column("alg", String(16), nullable=False),
    sa.Column("public_jwk", sa.JSON),
    sa.Column("private_encrypted", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("status", String(16), nullable=False),
    sa.Column("retired_at", Time),
    sa.Column("publish_until", Time),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", Time, nullable=False, index=True),
    sa.Column("event", String(64), nullable=False, index=True),
    sa.Column("outcome", String(16), nullable=False),
    sa.Column("actor", String(256), index=True),
    sa.Column("target", String(256), index=True),
    sa.Column("ip", String(64)),
    sa.Column("user_agent", String(256)),
    sa.Column("surface", String(32)),
    sa.Column("details", sa.JSON, nullable=False),
)

revocations = sa.Table(
    "revocations",
    metadata,
    sa.Column("key", String(160), primary_key=True),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("issued_before", Time),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", String(64), primary_key=True),
    sa.Column("value", Text(), nullable=False),
)

trusted_issuers = sa.Table(
    "trusted_issuers",
    metadata,
    sa.Column("name", String(128), primary_key=True),
    sa.Column("issuer", String(512), nullable=False, unique=True),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

external_identities = sa.Table(
    "external_identities",
    metadata,
    sa.Column("issuer", String(512), primary_key=True),
    sa.Column("subject", String(512), primary_key=True),
    sa.Column(
        "user_id",
        String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_at", Time, nullable=False),
)

# Registered APIs (RFC 8707 resources, issue 22): tokens asked for one are audience-restricted.
resources = sa.Table(
    "resources",
    metadata,
    sa.Column("uri", String(512), primary_key=True),
    sa.Column("name", String(256), nullable=False),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

# Login throttling without Redis (adapters/sql/limiter.py): counters with an expiry (bans,
# offences) and the entries of moving windows, one row per counted failure.
throttle_counters = sa.Table(
    "throttle_counters",
    metadata,
    sa.Column("key", String(400), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

throttle_hits = sa.Table(
    "throttle_hits",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("key", String(400), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Index("ix_throttle_hits_key_at", "key", "at"),
)

# The client addresses that signed in to an account successfully, each until `expires_at`
# (adapters/sql/known_addresses.py): a known address is not bound by the account's limit.
known_addresses = sa.Table(
    "known_addresses",
    metadata,
    sa.Column("account", String(400), primary_key=True),
    sa.Column("address", String(64), primary_key=True),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

# OpenID Connect (issue 17, 0007): codes and sign-in sessions are kept by the digest of their
# secret; a code names the token session its first use created, so a reuse can revoke it.
authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("code_hash", String(64), primary_key=True),
    sa.Column("client_id", String(128), nullable=False),
    sa.Column("user_id", String(64), nullable=False),
    sa.Column("redirect_uri", Text(), nullable=False),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("resources", Text(), nullable=False),
    sa.Column("code_challenge", String(128)),
    sa.Column("code_challenge_method", String(16)),
    sa.Column("nonce", Text()),
    sa.Column("signin_session_id", String(64), nullable=False),
    sa.Column("auth_time", Time, nullable=False),
    sa.Column("amr", Text(), nullable=False),
    sa.Column("acr", String(128)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("consumed_at", Time),
    sa.Column("session_id", String(64)),
)

signin_sessions = sa.Table(
    "signin_sessions",
    metadata,
    sa.Column("id", String(64), primary_key=True),
    sa.Column("user_id", String(64), nullable=False, index=True),
    sa.Column("secret_digest", String(128), nullable=False),
    sa.Column("auth_time", Time, nullable=False),
    sa.Column("amr", Text(), nullable=False),
    sa.Column("acr", String(128)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("ended_at", Time),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("user_id", String(64), primary_key=True),
    sa.Column("client_id", String(128), primary_key=True, index=True),
    sa.Column("scopes", Text(), nullable=False),
    sa.Column("granted_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
)

# Second factors (issue 18, 0008): a user's TOTP secret (sealed under the master key), its
# recovery codes (keyed digests, single use), pending logins and enrolments behind an
# `mfa_token` (by digest, single use), and each organization's MFA policy.
totp_factors = sa.Table(
    "totp_factors",
    metadata,
    sa.Column(
        "user_id", String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("confirmed_at", Time),
    sa.Column("last_step", sa.BigInteger),
)

recovery_codes = sa.Table(
    "recovery_codes",
    metadata,
    sa.Column(
        "user_id", String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("digest", String(64), primary_key=True),
    sa.Column("used_at", Time),
)

mfa_challenges = sa.Table(
    "mfa_challenges",
    metadata,
    sa.Column("digest", String(64), primary_key=True),
    sa.Column(
        "user_id",
        String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("purpose", String(16), nullable=False),
    sa.Column("profile", String(64), nullable=False),
    sa.Column("password_digest", String(64), nullable=False),
    sa.Column("scope", Text()),
    sa.Column("resources", Text()),
    sa.Column("oauth_client", String(256)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
)

org_mfa_policies = sa.Table(
    "org_mfa_policies",
    metadata,
    sa.Column(
        "org_uid", String(128), sa.ForeignKey("orgs.uid", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("require_mfa", sa.Boolean, nullable=False),
    sa.Column("dialects_without_mfa", sa.Boolean, nullable=False),
)

# Single-use links and ceremonies (issue 18, adapters/sql/account.py): password reset,
# invitation and email verification links, and WebAuthn challenges. Only a keyed digest of the
# secret is stored; a row is spent by setting `used_at`, at most once.
account_tokens = sa.Table(
    "account_tokens",
    metadata,
    sa.Column("digest", String(128), primary_key=True),
    sa.Column("purpose", String(32), nullable=False),
    sa.Column(
        "user_id",
        String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("email", String(320)),
    sa.Column("data", Text()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False, index=True),
    sa.Column("used_at", Time),
)

# WebAuthn credentials (passkeys), issue 18: the public key and the last signature counter.
passkeys = sa.Table(
    "passkeys",
    metadata,
    sa.Column("id", String(64), primary_key=True),
    sa.Column(
        "user_id",
        String(64),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("credential_id", String(1400), nullable=False, unique=True),
    sa.Column("public_key", Text(), nullable=False),
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("transports", Text(), nullable=False),
    sa.Column("aaguid", String(64), nullable=False),
    sa.Column("name", String(256), nullable=False),
    sa.Column("backed_up", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time),
)
