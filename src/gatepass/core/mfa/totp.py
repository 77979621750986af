"""RFC 6238 time-based one-time passwords, through pyotp (no hand-rolled HOTP).

A code is accepted for the current 30-second step and one step either side (clock drift), and
only for a step later than the last one accepted for the same secret: `match` returns the step
that matched so the caller can store it and refuse the same code (or an older one) again.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

import pyotp

DIGITS = 6
PERIOD = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random base32 secret (what authenticator apps are given)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The `otpauth://totp/...` URI (Google Authenticator's key-URI format) the QR code holds."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=quote(account, safe="@."), issuer_name=issuer
    )


def step_at(now: float) -> int:
    return int(now // PERIOD)


def code_at(secret: str, now: float) -> str:
    """The code for the step holding `now` (tests and the CLI's `--code` helper)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).at(int(now))


def match(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The step (within ±DRIFT_STEPS of now, after `last_step`) whose code is `code`, else None.

    Every candidate is computed and compared in constant time, so the answer's timing does not
    tell which step (if any) matched."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = step_at(now)
    found: int | None = None
    for step in range(max(0, current - DRIFT_STEPS), current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
