"""RFC 8414 authorization server metadata: exactly what this server supports.

There is no authorization endpoint (no browser flows), hence `response_types_supported` is
empty. gatepass issues no ID tokens and has no userinfo endpoint, so it is not an OpenID
Provider; the same document is served at `/.well-known/openid-configuration` because many
resource-server libraries look there for `issuer` and `jwks_uri`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gatepass.core.oauth import GRANT_TYPES
from gatepass.http.oauth2.client_auth import AUTH_METHODS

TOKEN_PATH = "/oauth/token"
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"
JWKS_PATH = "/.well-known/jwks.json"


class ServerMetadata(BaseModel):
    issuer: str
    token_endpoint: str
    jwks_uri: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint: str
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint: str
    introspection_endpoint_auth_methods_supported: list[str]
    service_documentation: str | None = None


def server_metadata(issuer: str) -> dict[str, Any]:
    methods = list(AUTH_METHODS)
    return {
        "issuer": issuer,
        "token_endpoint": issuer + TOKEN_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": methods,
        "revocation_endpoint": issuer + REVOKE_PATH,
        "revocation_endpoint_auth_methods_supported": methods,
        "introspection_endpoint": issuer + INTROSPECT_PATH,
        "introspection_endpoint_auth_methods_supported": methods,
    }
