"""The core's use of `gatepass.jose`: the header policy and the wording of each refusal for our
own tokens (`core.tokens`) and for foreign tokens from trusted identity providers
(`core.external`).

The checks themselves live in `gatepass.jose`, which gatepass.verify shares without importing
the server; here only which errors the core raises, with the words its surfaces have always
shown (`error_description`s are part of each surface's contract).
"""

from __future__ import annotations

from gatepass.core.errors import ExternalTokenRejected, GatepassError, InvalidToken, TokenExpired
from gatepass.jose.header import FOREIGN_TOKENS, OWN_TOKENS
from gatepass.jose.refusal import Reason, Refused

__all__ = ["FOREIGN_TOKENS", "OWN_TOKENS", "Refused", "foreign_refusal", "own_refusal"]

_OWN = {
    Reason.MALFORMED: "the token is malformed",
    Reason.KEY_MATERIAL: "the token header names key material gatepass does not accept",
    Reason.ALGORITHM: "the token's algorithm does not match its key",
    Reason.SIGNATURE: "the token signature is invalid",
    Reason.ISSUER: "the token was issued by someone else",
    Reason.AUDIENCE: "the token is meant for another audience",
    Reason.EXP_INVALID: "the token lacks a valid exp or iat",
    Reason.IAT_INVALID: "the token lacks a valid exp or iat",
    Reason.NOT_YET_VALID: "the token is not valid yet",
    Reason.ISSUED_IN_FUTURE: "the token was issued in the future",
    Reason.SUBJECT: "the token lacks a valid sub",
}

_FOREIGN = {
    Reason.MALFORMED: "the token is malformed",
    Reason.KEY_MATERIAL: "the token header names key material gatepass refuses",
    Reason.ALGORITHM: "the token's algorithm is not allowed for this issuer",
    Reason.SIGNATURE: "the token's signature is invalid",
    Reason.ISSUER: "the token comes from another issuer",
    Reason.AUDIENCE: "the token is meant for another audience",
    Reason.EXP_INVALID: "the token has expired",
    Reason.IAT_INVALID: "the token was issued in the future",
    Reason.EXPIRED: "the token has expired",
    Reason.NOT_YET_VALID: "the token is not valid yet",
    Reason.ISSUED_IN_FUTURE: "the token was issued in the future",
    Reason.SUBJECT: "the token names no subject",
}


def own_refusal(refused: Refused) -> GatepassError:
    """The core error for a refused gatepass token."""
    if refused.reason is Reason.EXPIRED:
        return TokenExpired()
    return InvalidToken(_OWN[refused.reason])


def foreign_refusal(refused: Refused) -> GatepassError:
    """The core error for a refused token from an external identity provider."""
    return ExternalTokenRejected(_FOREIGN[refused.reason])
