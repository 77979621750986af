"""Recovery codes: ten single-use codes shown once at enrolment, stored as keyed digests.

Each code holds 50 random bits (10 characters of Crockford-like base32 without look-alikes),
grouped `xxxxx-xxxxx` for reading aloud. Stored as HMAC-SHA256 digests under the secret-digest
key (as API keys are): the codes are random, so a slow hash would add nothing but latency.
"""

from __future__ import annotations

import secrets

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_LENGTH = 10


def new_codes() -> list[str]:
    return [_one() for _ in range(COUNT)]


def _one() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    """What a user typed, as it was issued: case and separators do not matter."""
    raw = "".join(ch for ch in code.strip().lower() if ch not in " -")[:64]
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == _LENGTH else raw
