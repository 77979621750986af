"""Why a token was refused, as a reason code each caller words in its own error type.

The server's core, its external-identity checks and gatepass.verify each render refusals with
their own exception classes and wording (a surface's words are part of its contract); the
decision is made once, in `gatepass.jose`.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    MALFORMED = "malformed"
    KEY_MATERIAL = "key_material"  # a refused header parameter (jku, jwk, x5u, x5c, crit, ...)
    ALGORITHM = "algorithm"  # the header's alg is not the one pinned for the key or issuer
    SIGNATURE = "signature"
    ISSUER = "issuer"
    AUDIENCE = "audience"
    EXP_INVALID = "exp_invalid"  # exp missing or not a number
    IAT_INVALID = "iat_invalid"  # iat missing or not a number, where it is required
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    SUBJECT = "subject"


class Refused(Exception):
    """A token the shared checks refuse; `reason` says which check."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason
