"""Pure decisions about scopes: what a principal holds and what a token may carry.

The rule of least privilege lives here, in `ScopePolicy`, and every way of obtaining a grant
goes through it (a native login, an OAuth token request, a dialect's login, and the browser
authorization request to come): privileged scopes (`privileged_scopes`, by default
`gatepass:admin`) come only when the request names them, never by default, never through a
surface that cannot name them, and never in a token for a registered API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gatepass.core.errors import InsufficientScope, InvalidRequest, InvalidScope
from gatepass.core.text import clip

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,128}$")
ADMIN_SCOPE = "gatepass:admin"
# OpenID Connect's scopes (issue 17): about the user themself, granted by the user's consent at
# sign-in rather than held through roles. A session granted one keeps it across refreshes.
IDENTITY_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})


def is_scope_token(name: str) -> bool:
    return bool(_SCOPE_TOKEN.match(name))


def parse_scope(value: str | None) -> frozenset[str] | None:
    """A space-separated scope string; None when absent (meaning: the default grant)."""
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
        raise InvalidRequest(f"invalid scope name(s): {clip(', '.join(bad))}")
    return result


def narrow(held: frozenset[str], requested: frozenset[str] | None) -> frozenset[str]:
    """The scopes to grant: all held when none requested, else the request if it is a subset.
    For grants that already exist (a refresh keeps what its session was granted)."""
    if requested is None:
        return held
    if not requested <= held:
        raise InvalidScope()
    return requested


@dataclass(frozen=True, slots=True)
class ScopePolicy:
    """What a new grant carries, given what the principal holds and what was asked for."""

    privileged: frozenset[str]

    def grant(
        self,
        held: frozenset[str],
        requested: frozenset[str] | None,
        *,
        may_name_privileged: bool = True,
    ) -> frozenset[str]:
        """Without a request, everything held except the privileged scopes; with one, exactly
        the request, which must be held. A surface whose clients cannot ask for scopes (a
        dialect) passes `may_name_privileged=False`: it can never grant one."""
        if requested is None:
            return held - self.privileged
        if not requested <= held:
            raise InvalidScope()
        if not may_name_privileged and requested & self.privileged:
            raise InvalidScope("this login surface cannot grant privileged scopes")
        return requested

    def at_resources(
        self, granted: frozenset[str], offered: Iterable[frozenset[str]]
    ) -> frozenset[str]:
        """A grant narrowed to what the registered APIs it is for offer (RFC 8707): never a
        privileged scope, which is meant for gatepass itself."""
        return (granted & frozenset().union(*offered)) - self.privileged


def require(granted: frozenset[str], required: Iterable[str]) -> None:
    missing = sorted(set(required) - granted)
    if missing:
        raise InsufficientScope(f"missing scope(s): {' '.join(missing)}")


def scope_string(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))
