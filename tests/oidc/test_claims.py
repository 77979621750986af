"""The standard claims released by scope (userinfo and the ID token share them)."""

from __future__ import annotations

from dataclasses import replace

from gatepass.core.models import User
from gatepass.core.oidc.claims import user_claims

DORA = User(
    id="u-1",
    username="dora",
    email="Dora@Example.com",
    display_name=None,
    org_uid=None,
    roles=(),
    scopes=frozenset(),
    disabled=False,
    password_hash=None,
    created_at=1.0,
    updated_at=2.0,
)


def test_email_verified_follows_the_proven_address() -> None:
    scopes = frozenset({"openid", "email"})
    assert user_claims(DORA, scopes)["email_verified"] is False
    proven = replace(DORA, verified_email="dora@example.com")
    assert user_claims(proven, scopes) == {
        "sub": "u-1",
        "email": "Dora@Example.com",
        "email_verified": True,
    }
    # An admin changed the address after it was proven: it is no longer verified.
    moved = replace(proven, email="dora@elsewhere.example")
    assert user_claims(moved, scopes)["email_verified"] is False


def test_no_email_scope_releases_no_address() -> None:
    proven = replace(DORA, verified_email="dora@example.com")
    assert user_claims(proven, frozenset({"openid", "profile"})) == {
        "sub": "u-1",
        "name": "dora",
        "preferred_username": "dora",
        "updated_at": 2,
    }
