"""Pure decisions about scopes: what a principal holds and what a token may carry."""

from __future__ import annotations

import re
from collections.abc import Iterable

from gatepass.core.errors import InsufficientScope, InvalidRequest, InvalidScope

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$")
ADMIN_SCOPE = "gatepass:admin"


def parse_scope(value: str | None) -> frozenset[str] | None:
    """A space-separated scope string; None when absent (meaning: everything held)."""
    if value is None:
        return None
    items = value.split()
    if not all(_SCOPE_TOKEN.match(item) for item in items):
        raise InvalidRequest("scope must be space-separated scope tokens")
    return frozenset(items)


def validate_scopes(scopes: Iterable[str]) -> frozenset[str]:
    result = frozenset(scopes)
    bad = sorted(item for item in result if not _SCOPE_TOKEN.match(item))
    if bad:
        raise InvalidRequest(f"invalid scope name(s): {', '.join(bad)}")
    return result


def narrow(held: frozenset[str], requested: frozenset[str] | None) -> frozenset[str]:
    """The scopes to grant: all held when none requested, else the request if it is a subset."""
    if requested is None:
        return held
    if not requested <= held:
        raise InvalidScope()
    return requested


def require(granted: frozenset[str], required: Iterable[str]) -> None:
    missing = sorted(set(required) - granted)
    if missing:
        raise InsufficientScope(f"missing scope(s): {' '.join(missing)}")


def scope_string(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))
