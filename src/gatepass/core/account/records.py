"""The values self-service accounts store: single-use links and passkeys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LinkPurpose(StrEnum):
    """What a single-use secret is for; a secret of one purpose is never accepted for another."""

    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    EMAIL_VERIFICATION = "email_verification"
    # A WebAuthn ceremony's challenge, between its options and its verification.
    PASSKEY_REGISTRATION = "passkey_registration"
    PASSKEY_AUTHENTICATION = "passkey_authentication"


@dataclass(frozen=True, slots=True)
class AccountToken:
    """A single-use secret as stored: its keyed digest, never the secret."""

    digest: str
    purpose: LinkPurpose
    user_id: str | None
    email: str | None  # the address a link was sent to
    data: str | None  # a ceremony's state (JSON), for passkeys
    created_at: float
    expires_at: float
    used_at: float | None = None


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential registered by a user."""

    id: str
    user_id: str
    credential_id: str  # base64url, as browsers name it
    public_key: bytes  # COSE_Key
    sign_count: int
    transports: tuple[str, ...]
    aaguid: str
    name: str
    backed_up: bool
    created_at: float
    last_used_at: float | None = None
