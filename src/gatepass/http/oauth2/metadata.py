"""RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0: exactly what this
server supports, one document served at both `/.well-known/oauth-authorization-server` and
`/.well-known/openid-configuration` (issue 17: the authorization code flow with PKCE S256,
ID tokens signed RS256 or ES256, userinfo, RP-initiated logout).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gatepass.core.mfa.factors import ACR_MFA, ACR_PASSWORD
from gatepass.core.oauth import GRANT_TYPES
from gatepass.core.oidc.authorize import PROMPTS, RESPONSE_MODES
from gatepass.core.oidc.claims import CLAIMS_SUPPORTED, SUPPORTED
from gatepass.core.oidc.clients import ID_TOKEN_ALGS
from gatepass.http.oauth2.client_auth import AUTH_METHODS, TOKEN_AUTH_METHODS

TOKEN_PATH = "/oauth/token"
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"
JWKS_PATH = "/.well-known/jwks.json"
AUTHORIZE_PATH = "/oauth/authorize"
USERINFO_PATH = "/oauth/userinfo"
LOGOUT_PATH = "/oauth/logout"


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
    authorization_endpoint: str
    userinfo_endpoint: str
    end_session_endpoint: str
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    claims_supported: list[str]
    scopes_supported: list[str]
    prompt_values_supported: list[str]
    acr_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    service_documentation: str | None = None


def server_metadata(issuer: str) -> dict[str, Any]:
    methods = list(AUTH_METHODS)
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "userinfo_endpoint": issuer + USERINFO_PATH,
        "end_session_endpoint": issuer + LOGOUT_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "scopes_supported": list(SUPPORTED),
        "prompt_values_supported": list(PROMPTS),
        # What a sign-in's `acr` can be; `acr_values` naming the mfa one is a step-up.
        "acr_values_supported": [ACR_PASSWORD, ACR_MFA],
        "authorization_response_iss_parameter_supported": True,
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "revocation_endpoint": issuer + REVOKE_PATH,
        "revocation_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "introspection_endpoint": issuer + INTROSPECT_PATH,
        "introspection_endpoint_auth_methods_supported": methods,
    }
