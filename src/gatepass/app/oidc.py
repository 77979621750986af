"""The OpenID Connect provider's settings, from the deployment's (issue 17)."""

from __future__ import annotations

from gatepass.app.profiles import OIDC, OIDC_NO_REFRESH
from gatepass.config import Settings
from gatepass.core.oidc.service import OidcConfig

# Single sign-on lasts at most this long after a password sign-in (Keycloak's "SSO Session
# Max" default), and never longer than any session (docs/decisions.md, issue 17).
SIGNIN_TTL = 10 * 3600.0


def oidc_config(settings: Settings) -> OidcConfig:
    return OidcConfig(
        signin_ttl=min(SIGNIN_TTL, float(settings.session_max_lifetime)),
        id_token_ttl=float(settings.access_token_ttl),
        profile=OIDC,
        profile_without_refresh=OIDC_NO_REFRESH,
    )
