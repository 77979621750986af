"""Stored values of the second factors: a user's TOTP secret, a pending login or enrolment
(`MfaChallenge`, the state behind an `mfa_token`), and an organization's MFA policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class TotpFactor:
    """`secret_sealed`: the base32 secret, AES-GCM-encrypted under a key derived from the master
    key (the user id as associated data, so a row copied to another user does not decrypt).
    `last_step`: the newest time step accepted; a code of that step or an older one is refused."""

    user_id: str
    secret_sealed: bytes
    created_at: float
    confirmed_at: float | None = None
    last_step: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class ChallengePurpose(StrEnum):
    LOGIN = "login"  # the password was right; a second factor completes the login
    ENROL = "enrol"  # the password was right; the policy wants a factor enrolled first


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    """What an `mfa_token` stands for (stored by digest, single use): the user and the first
    factor it proved (`password_digest` pins the password hash it was checked against, so a
    password change in between voids it), and the login request it will complete."""

    digest: str
    user_id: str
    purpose: ChallengePurpose
    profile: str
    password_digest: str
    created_at: float
    expires_at: float
    scope: str | None = None
    resources: tuple[str, ...] = ()
    oauth_client: str | None = None


@dataclass(frozen=True, slots=True)
class OrgMfaPolicy:
    """`require_mfa`: members must have a second factor. `dialects_without_mfa`: members who
    have one may still log in through a dialect (which cannot carry a second factor) with their
    password alone; off by default."""

    org_uid: str
    require_mfa: bool = False
    dialects_without_mfa: bool = False
