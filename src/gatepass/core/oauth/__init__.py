"""OAuth 2.0 in the core: the token endpoint's grants (RFC 6749, 8693, 7523), introspection
(RFC 7662) and revocation (RFC 7009).

Nothing here knows HTTP. The surface (`gatepass.http.oauth2`) parses a request into the values
in `requests.py`, makes one call to `OAuthService`, and renders the result, or the typed error
with the RFC 6749 §5.2 codes. Every call authenticates the calling client first (`clients.py`).

    service.py        OAuthService: the token endpoint chain, introspect, revoke
    grants/           one module per grant type, and the registry (grants/__init__.py)
    introspection.py  RFC 7662
    revocation.py     RFC 7009
    clients.py        client authentication
    requests.py       the parsed request values

What each client may do is data on the client (`Client.grant_types`); see docs/decisions.md
for why the default is `client_credentials` alone, and who may introspect and revoke what.
"""

from __future__ import annotations

from gatepass.core.errors import InvalidClient, UnauthorizedClient, UnsupportedGrantType
from gatepass.core.oauth.grants import (
    DEFAULT_GRANT_TYPES,
    GRANT_ALIASES,
    GRANT_TYPES,
    GRANTS,
    Grant,
    GrantServices,
    validate_grant_types,
)
from gatepass.core.oauth.grants.authorization_code import AUTHORIZATION_CODE
from gatepass.core.oauth.grants.base import REFRESH_TOKEN
from gatepass.core.oauth.grants.client_credentials import CLIENT_CREDENTIALS
from gatepass.core.oauth.grants.jwt_bearer import JWT_BEARER
from gatepass.core.oauth.grants.password import PASSWORD
from gatepass.core.oauth.grants.token_exchange import (
    ACCESS_TOKEN_TYPE,
    SUBJECT_TOKEN_TYPES,
    TOKEN_EXCHANGE,
)
from gatepass.core.oauth.requests import (
    AuthenticatedClient,
    ClientCredentials,
    OAuthProfiles,
    TokenRequest,
)
from gatepass.core.oauth.service import OAuthService

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "AUTHORIZATION_CODE",
    "CLIENT_CREDENTIALS",
    "DEFAULT_GRANT_TYPES",
    "GRANTS",
    "GRANT_ALIASES",
    "GRANT_TYPES",
    "JWT_BEARER",
    "PASSWORD",
    "REFRESH_TOKEN",
    "SUBJECT_TOKEN_TYPES",
    "TOKEN_EXCHANGE",
    "AuthenticatedClient",
    "ClientCredentials",
    "Grant",
    "GrantServices",
    "InvalidClient",
    "OAuthProfiles",
    "OAuthService",
    "TokenRequest",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "validate_grant_types",
]
