"""The token profile of every login surface, built from the settings.

Profiles are the core's general mechanism (see `gatepass.core.profiles`); this module only
fills in each surface's values — lifetimes, refresh behaviour and the extra claims each dialect's
clients expect (`docs/dialects/`) — so that the HTTP layer and the CLI agree on them.
"""

from __future__ import annotations

from dataclasses import replace

from gatepass.config import Settings
from gatepass.core.oauth import OAuthProfiles
from gatepass.core.profiles import (
    ClaimMapping,
    ClaimSource,
    SecondFactorStep,
    SubjectSource,
    TokenProfile,
)

NATIVE = "native"
OAUTH_CLIENT = "oauth_client"  # client_credentials: stateless, sub = client_id (RFC 9068)
OAUTH_PASSWORD = "oauth"  # password grant: a session bound to its client, rotating refresh
OAUTH_PASSWORD_NO_REFRESH = "oauth_norefresh"  # for clients without the refresh_token grant
# Browser sign-in (issue 17): a session bound to its client; refresh only for clients with
# the refresh_token grant (see docs/decisions.md).
OIDC = "oidc"
OIDC_NO_REFRESH = "oidc_norefresh"
OAUTH_PROFILES = OAuthProfiles(
    client_credentials=OAUTH_CLIENT,
    password=OAUTH_PASSWORD,
    password_without_refresh=OAUTH_PASSWORD_NO_REFRESH,
    authorization_code=OIDC,
)
OSAIS = "osais"
CLOUDIO = "cloudio"
UNDUIT = "unduit"
DATARHEI = "datarhei"
XPAY = "xpay"
CONSOLE = "console"


# How an interactive login proved itself (issue 18): RFC 8176 `amr` and gatepass's `acr`, left
# out for machine credentials. Dialect tokens keep their clients' exact claim sets.
AUTHN_CLAIMS = (ClaimMapping("amr", ClaimSource.AMR), ClaimMapping("acr", ClaimSource.ACR))


def build_profiles(settings: Settings) -> dict[str, TokenProfile]:
    profiles = [
        TokenProfile(
            name=NATIVE,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            session_lifetime=settings.session_max_lifetime,
            # amr/acr, and OIDC's names for a user's address and whether they proved it theirs.
            access_claims=(
                *AUTHN_CLAIMS,
                ClaimMapping("email", ClaimSource.EMAIL),
                ClaimMapping("email_verified", ClaimSource.EMAIL_VERIFIED),
            ),
            second_factor=SecondFactorStep.CHALLENGE,
        ),
        *dialect_profiles(settings),
        # The admin console's cookie session: csrf-bound, no refresh, ends with its token.
        TokenProfile(
            name=CONSOLE,
            access_ttl=settings.console_session_ttl,
            session_lifetime=settings.console_session_ttl,
            csrf_bound=True,
            access_claims=AUTHN_CLAIMS,
            second_factor=SecondFactorStep.CHALLENGE,
        ),
        *_oauth_profiles(settings),
    ]
    return {profile.name: profile for profile in profiles}


def dialect_profiles(settings: Settings) -> list[TokenProfile]:
    """Every dialect's profile, whether or not the dialect is switched on: sessions created
    while a dialect was on must stay verifiable and revocable after it is switched off.
    None may grant a privileged scope: a dialect's clients cannot ask for one (issue 22)."""
    return [replace(profile, may_grant_privileged=False) for profile in _dialect_profiles(settings)]


def _dialect_profiles(settings: Settings) -> list[TokenProfile]:
    blocks = settings.dialect_settings
    return [
        # osais: one long-lived token per client login, `username` = the client's domain.
        TokenProfile(
            name=OSAIS,
            access_ttl=blocks.osais.token_ttl,
            access_claims=(
                ClaimMapping("username", ClaimSource.METADATA, "domain"),
                ClaimMapping("token", ClaimSource.PRINCIPAL_ID),
            ),
        ),
        # cloudio: a server-side session bound to a csrf value the client sends on every call.
        TokenProfile(
            name=CLOUDIO,
            access_ttl=blocks.cloudio.jwt_ttl,
            csrf_bound=True,
            access_claims=(
                ClaimMapping("session", ClaimSource.SESSION_ID),
                ClaimMapping("org_uid", ClaimSource.ORG),
            ),
        ),
        # unduit: rotating refresh, and its clients refresh with their (even expired) token.
        # Its claim set is the same for every principal: an API client's email is null, as
        # is the company_id of a principal in no organization.
        TokenProfile(
            name=UNDUIT,
            access_ttl=blocks.unduit.token_ttl,
            refresh_ttl=blocks.unduit.refresh_ttl,
            session_lifetime=blocks.unduit.refresh_ttl,
            refresh_accepts_access=True,
            access_claims=(
                ClaimMapping("id", ClaimSource.PRINCIPAL_ID),
                ClaimMapping("email", ClaimSource.EMAIL, nullable=True),
                ClaimMapping("company_id", ClaimSource.ORG, nullable=True),
            ),
        ),
        # datarhei: Core's claims; the refresh token is reused until it expires (no rotation).
        TokenProfile(
            name=DATARHEI,
            access_ttl=blocks.datarhei.access_ttl,
            refresh_ttl=blocks.datarhei.refresh_ttl,
            session_lifetime=blocks.datarhei.refresh_ttl,
            rotate_refresh=False,
            subject=SubjectSource.NAME,
            access_claims=(
                ClaimMapping("exi", ClaimSource.LIFETIME),
                ClaimMapping("usefor", ClaimSource.TOKEN_USE),
            ),
            refresh_claims=(
                ClaimMapping("exi", ClaimSource.LIFETIME),
                ClaimMapping("usefor", ClaimSource.TOKEN_USE),
            ),
        ),
        # xpay: a session ("ticket") and one token; clients log in again when it expires.
        TokenProfile(name=XPAY, access_ttl=blocks.xpay.token_ttl),
    ]


def _oauth_profiles(settings: Settings) -> list[TokenProfile]:
    client_id = (ClaimMapping("client_id", ClaimSource.OAUTH_CLIENT), *AUTHN_CLAIMS)
    grant_error = SecondFactorStep.GRANT_ERROR
    return [
        TokenProfile(name=OAUTH_CLIENT, access_ttl=settings.access_token_ttl, stateless=True),
        TokenProfile(
            name=OAUTH_PASSWORD,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            session_lifetime=settings.session_max_lifetime,
            access_claims=client_id,
            second_factor=grant_error,
        ),
        TokenProfile(
            name=OAUTH_PASSWORD_NO_REFRESH,
            access_ttl=settings.access_token_ttl,
            access_claims=client_id,
            second_factor=grant_error,
        ),
        TokenProfile(
            name=OIDC,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            session_lifetime=settings.session_max_lifetime,
            access_claims=client_id,
            second_factor=SecondFactorStep.CHALLENGE,
        ),
        TokenProfile(
            name=OIDC_NO_REFRESH,
            access_ttl=settings.access_token_ttl,
            access_claims=client_id,
            second_factor=SecondFactorStep.CHALLENGE,
        ),
    ]
