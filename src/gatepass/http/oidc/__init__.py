"""OpenID Connect provider surface (issue 17): /oauth/authorize, the hosted /login and consent
pages, /oauth/userinfo and /oauth/logout; thin over `gatepass.core.oidc`."""

from gatepass.http.oidc.endpoints import OidcApi

__all__ = ["OidcApi"]
