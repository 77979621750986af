"""The token endpoint's grants: one module per grant type, and the registry below
(grant_type -> `Grant`), as node-oidc-provider's lib/actions/grants.

Adding a grant is adding its module (a `GRANT = Grant(grant_type, handler)`) and one entry
in `_REGISTERED`; the token endpoint, client registration (`validate_grant_types`) and the
server metadata (`grant_types_supported`) follow from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from gatepass.core.errors import InvalidRequest
from gatepass.core.oauth.grants import (
    authorization_code,
    client_credentials,
    jwt_bearer,
    password,
    refresh_token,
    token_exchange,
)
from gatepass.core.oauth.grants.base import Grant, GrantServices

# In the order `grant_types_supported` lists them.
_REGISTERED = (
    authorization_code.GRANT,
    client_credentials.GRANT,
    password.GRANT,
    refresh_token.GRANT,
    token_exchange.GRANT,
    jwt_bearer.GRANT,
)
GRANTS: dict[str, Grant] = {grant.grant_type: grant for grant in _REGISTERED}
GRANT_TYPES = tuple(GRANTS)
# Short names for the URN grant types, for humans typing `gatepass client add --grant …`.
GRANT_ALIASES = {grant.alias: grant.grant_type for grant in _REGISTERED if grant.alias}
DEFAULT_GRANT_TYPES = frozenset({client_credentials.CLIENT_CREDENTIALS})


def validate_grant_types(values: Iterable[str]) -> frozenset[str]:
    """Grant types for a client; `none` alone means none (a client that only introspects)."""
    chosen = [GRANT_ALIASES.get(value.strip(), value.strip()) for value in values if value.strip()]
    if chosen == ["none"]:
        return frozenset()
    unknown = sorted(set(chosen) - set(GRANT_TYPES))
    if unknown:
        names = (grant.alias or grant.grant_type for grant in _REGISTERED)
        raise InvalidRequest(
            f"unknown grant type(s) {', '.join(unknown)}; choose from {', '.join(names)}"
        )
    return frozenset(chosen)


__all__ = [
    "DEFAULT_GRANT_TYPES",
    "GRANTS",
    "GRANT_ALIASES",
    "GRANT_TYPES",
    "Grant",
    "GrantServices",
    "validate_grant_types",
]
