"""The one OidcService of a running app (per AuthService), shared by the OIDC endpoints and
the token endpoint's authorization_code grant."""

from __future__ import annotations

import weakref

from gatepass.app.profiles import OIDC, OIDC_NO_REFRESH
from gatepass.config import Settings
from gatepass.core.oidc.service import OidcConfig, OidcService
from gatepass.core.service import AuthService

# Single sign-on lasts at most this long after a password sign-in (Keycloak's "SSO Session
# Max" default), and never longer than any session (docs/decisions.md, issue 17).
SIGNIN_TTL = 10 * 3600.0

_services: weakref.WeakKeyDictionary[AuthService, OidcService] = weakref.WeakKeyDictionary()


def oidc_config(settings: Settings) -> OidcConfig:
    return OidcConfig(
        signin_ttl=min(SIGNIN_TTL, float(settings.session_max_lifetime)),
        id_token_ttl=float(settings.access_token_ttl),
        profile=OIDC,
        profile_without_refresh=OIDC_NO_REFRESH,
    )


def oidc_service(auth: AuthService, settings: Settings) -> OidcService:
    service = _services.get(auth)
    if service is None:
        service = _services[auth] = OidcService(auth, oidc_config(settings))
    return service
