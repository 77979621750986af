"""The durable values of browser sign-in: authorization codes, sign-in sessions, consents.

Secrets are never stored: a code is kept as the SHA-256 of its text, a sign-in session's
cookie secret likewise. Times are POSIX seconds, as everywhere in the core.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """An authorization code (RFC 6749 §4.1.2), bound to everything the token request must
    repeat or prove. `session_id` names the token session its one redemption created: a
    second redemption revokes it (RFC 6749 §4.1.2)."""

    code_hash: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: frozenset[str]
    resources: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    signin_session_id: str
    auth_time: float
    amr: tuple[str, ...]
    acr: str | None
    created_at: float
    expires_at: float
    consumed_at: float | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class CodeRedemption:
    """What a token request proved, for a code to be consumed only if it matches all of it:
    issued to `client_id` for `redirect_uri`, not expired at `now`, its PKCE challenge equal to
    `code_challenge` (None: the request sent no verifier, so the code must have no challenge),
    and its sign-in session not ended. A code that matches stays unused otherwise, so a failed
    attempt does not spend it (as before this check moved into the consuming statement)."""

    client_id: str
    redirect_uri: str
    code_challenge: str | None
    now: float


@dataclass(frozen=True, slots=True)
class SigninSession:
    """One browser sign-in at the hosted /login page: single sign-on until it ends.

    `id` is public (the ID token's `sid`); the cookie carries `id` and a secret whose digest
    is `secret_digest`, so knowing a `sid` is not being signed in."""

    id: str
    user_id: str
    secret_digest: str
    auth_time: float
    amr: tuple[str, ...]
    acr: str | None
    created_at: float
    expires_at: float
    ended_at: float | None = None

    def active_at(self, now: float) -> bool:
        return self.ended_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Consent:
    """What a user allowed a (third-party) client; remembered until revoked."""

    user_id: str
    client_id: str
    scopes: frozenset[str]
    granted_at: float
    revoked_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
