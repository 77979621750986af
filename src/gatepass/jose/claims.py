"""The registered-claim checks, against the caller's clock: `iss`, `aud`, `exp`/`nbf`/`iat`
with a leeway, and `sub`.

Each is its own function so that a caller checks its own claims (`token_use`, `jti`, a csrf
binding) in the order its refusals have always been reported in; the rules themselves live
only here.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping
from typing import Any, TypeGuard

from gatepass.jose.refusal import Reason, Refused


def check_issuer(claims: Mapping[str, Any], issuer: str) -> None:
    if claims.get("iss") != issuer:
        raise Refused(Reason.ISSUER)


def check_audience(claims: Mapping[str, Any], accepted: Collection[str]) -> None:
    """`aud` (a string or a list of strings) names at least one of the `accepted` audiences."""
    if not audience_matches(claims.get("aud"), accepted):
        raise Refused(Reason.AUDIENCE)


def check_lifetime(
    claims: Mapping[str, Any],
    *,
    now: float,
    leeway: float,
    require_iat: bool,
    check_expiry: bool = True,
) -> None:
    """`exp` is required; `iat` too when `require_iat`; `nbf`/`iat`, when present, must be
    numbers not in the future. Each bound is widened by `leeway` seconds of clock skew."""
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if not is_number(exp):
        raise Refused(Reason.EXP_INVALID)
    if require_iat and not is_number(iat):
        raise Refused(Reason.IAT_INVALID)
    if check_expiry and now >= exp + leeway:
        raise Refused(Reason.EXPIRED)
    if nbf is not None and (not is_number(nbf) or now + leeway < nbf):
        raise Refused(Reason.NOT_YET_VALID)
    if iat is not None and (not is_number(iat) or iat > now + leeway):
        raise Refused(Reason.ISSUED_IN_FUTURE)


def check_subject(claims: Mapping[str, Any]) -> None:
    if not non_empty_string(claims.get("sub")):
        raise Refused(Reason.SUBJECT)


def is_number(value: object) -> TypeGuard[int | float]:
    # A tuple, not `int | float`: isinstance against a union is several times slower, and
    # this runs on every request.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def non_empty_string(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value)


def audience_matches(aud: object, accepted: Collection[str]) -> bool:
    if isinstance(aud, str):  # the usual case, on every request: no generator
        for expected in accepted:  # noqa: SIM110
            if _same(aud, expected):
                return True
        return False
    if isinstance(aud, list):
        return any(
            isinstance(item, str) and _same(item, expected) for item in aud for expected in accepted
        )
    return False


def _same(a: str, b: str) -> bool:
    # Any text, not only ASCII (hmac.compare_digest refuses non-ASCII str).
    try:
        return hmac.compare_digest(a.encode(), b.encode())
    except UnicodeEncodeError:  # a lone surrogate (JSON can carry one): never an audience
        return False
