"""OpenID Connect scopes: what each means in words (the consent page), and which user claims
each releases (userinfo, OpenID Connect Core §5.4)."""

from __future__ import annotations

from typing import Any

from gatepass.core.models import User
from gatepass.core.scopes import IDENTITY_SCOPES

OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
SUPPORTED = ("openid", "profile", "email", "offline_access")
assert frozenset(SUPPORTED) == IDENTITY_SCOPES

_WORDS = {
    "openid": "Sign you in with your gatepass account",
    "profile": "See your name and username",
    "email": "See your email address",
    "offline_access": "Stay signed in and act for you while you are away",
}
CLAIMS_BY_SCOPE = {
    "openid": ("sub",),
    "profile": ("name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
}
CLAIMS_SUPPORTED = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "acr",
    "amr",
    "sid",
    *CLAIMS_BY_SCOPE["profile"],
    *CLAIMS_BY_SCOPE["email"],
)


def in_words(scope: str) -> str:
    """A scope as the consent page says it; an API scope is shown by its name."""
    return _WORDS.get(scope, f"Use the API permission “{scope}”")


def user_claims(user: User, scopes: frozenset[str]) -> dict[str, Any]:
    """The standard claims the granted scopes release about `user`."""
    claims: dict[str, Any] = {"sub": user.id}
    if "profile" in scopes:
        claims["name"] = user.display_name or user.username
        claims["preferred_username"] = user.username
        claims["updated_at"] = int(user.updated_at)
    if "email" in scopes and user.email:
        claims["email"] = user.email
        # True only while the address is the one the user proved (a verification or reset
        # link, issue 18): an admin changing the address un-verifies it.
        claims["email_verified"] = user.email_verified
    return claims
