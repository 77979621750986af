"""High-entropy secrets gatepass generates: API client secrets and user API keys.

A secret is 256 random bits, URL-safe, behind a recognisable prefix so leaked ones are easy to
spot by scanners. Only a keyed digest (HMAC-SHA256 under a key derived from the master key) is
stored, so a copy of the database alone yields nothing usable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CLIENT_SECRET_PREFIX = "gp_cs_"
API_KEY_PREFIX = "gp_ak_"
_ENTROPY_BYTES = 32


def generate_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(_ENTROPY_BYTES)


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(_ENTROPY_BYTES)


def generate_client_id() -> str:
    """40 hex characters: also a valid osais client `token` (32+ hex)."""
    return secrets.token_hex(20)


def display_prefix(secret: str) -> str:
    """Enough of a secret to recognise it in a list, never enough to use it."""
    return secret[: len(API_KEY_PREFIX) + 4] + "…"


class SecretDigester:
    """Keyed digests of secrets, compared in constant time."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(secret), stored_digest)
