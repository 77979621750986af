"""What can go wrong when a resource server checks a token.

VerificationError           the request cannot be let through (401 unless said otherwise)
├── InvalidToken            malformed, bad signature, unknown key, wrong issuer/audience/type
│   └── ExpiredToken        past `exp` (plus leeway)
├── InsufficientScope       valid, but lacks a required scope (403)
├── InsufficientAuthentication  valid, but the login was weaker than required: amr/acr (401,
│                           RFC 9470's `insufficient_user_authentication`)
└── JwksUnavailable         the issuer's keys could not be fetched (503)
"""

from __future__ import annotations

from typing import ClassVar


class VerificationError(Exception):
    status: ClassVar[int] = 401
    code: ClassVar[str] = "invalid_token"
    default_description: ClassVar[str] = "the token is invalid"

    def __init__(self, description: str | None = None) -> None:
        self.description = description or self.default_description
        super().__init__(self.description)


class InvalidToken(VerificationError):
    pass


class ExpiredToken(InvalidToken):
    default_description = "the token has expired"


class InsufficientScope(VerificationError):
    status = 403
    code = "insufficient_scope"
    default_description = "the token lacks a required scope"

    def __init__(self, missing: frozenset[str]) -> None:
        super().__init__(f"missing scope(s): {' '.join(sorted(missing))}")
        self.missing = missing


class InsufficientAuthentication(VerificationError):
    """The login behind the token did not use the methods (`amr`) or reach the class (`acr`)
    the API requires: the client should sign the user in again, more strongly (RFC 9470)."""

    code = "insufficient_user_authentication"
    default_description = "a stronger authentication is required"


class JwksUnavailable(VerificationError):
    status = 503
    code = "temporarily_unavailable"
    default_description = "the issuer's signing keys could not be fetched"
