"""OidcService: the browser sign-in operations the surfaces call, one per step.

authorize (after `check_request`) -> sign in at /login (`sign_in`) -> consent (`consent`) ->
a code; `redeem` at the token endpoint; `userinfo`; `end_session` (RP-initiated logout).
Each step takes plain values and returns an outcome, or raises `ErrorPage` /
`AuthorizationError` / a core error.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gatepass.core.cache import TtlCache
from gatepass.core.errors import InsufficientScope, InvalidGrant, InvalidToken, TokenRevoked
from gatepass.core.login import Logins
from gatepass.core.mfa.factors import ACR_MFA
from gatepass.core.models import AuthMethod, Client, IssuedTokens, RequestContext, User
from gatepass.core.oauth import REFRESH_TOKEN
from gatepass.core.oidc.authorize import AuthorizationRequest, check_request
from gatepass.core.oidc.claims import OPENID, user_claims
from gatepass.core.oidc.codes import issue_code, redeem_code
from gatepass.core.oidc.errors import AuthorizationError, ErrorPage
from gatepass.core.oidc.id_token import IdTokenSigner
from gatepass.core.oidc.models import Consent, SigninSession
from gatepass.core.oidc.redirects import redirect_matches
from gatepass.core.oidc.signin import SignedIn, SignIns
from gatepass.core.scopes import IDENTITY_SCOPES
from gatepass.core.sessions import Sessions
from gatepass.core.verification import session_key

__all__ = ["AuthorizationRequest", "OidcConfig", "OidcService"]

ORIGINS_TTL = 2.0


@dataclass(frozen=True, slots=True)
class OidcConfig:
    signin_ttl: float  # single sign-on lasts this long after a password sign-in
    id_token_ttl: float
    profile: str  # token profile of a session whose client has the refresh_token grant
    profile_without_refresh: str


@dataclass(frozen=True, slots=True)
class NeedsLogin:
    request: AuthorizationRequest


@dataclass(frozen=True, slots=True)
class NeedsConsent:
    request: AuthorizationRequest
    user: User


@dataclass(frozen=True, slots=True)
class CodeIssued:
    request: AuthorizationRequest
    code: str


Outcome = NeedsLogin | NeedsConsent | CodeIssued


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """A checked RP-initiated logout request: where to go after (None: our own page)."""

    client: Client | None
    redirect_uri: str | None
    state: str | None
    hinted_sid: str | None


class OidcService:
    """Built from the core parts it works through: `sessions` (and what it holds: storage,
    the issuer, the verifier, principals, audit, the denylist, the core config) and `logins`
    (the password check and the second factor)."""

    def __init__(self, *, logins: Logins, sessions: Sessions, config: OidcConfig) -> None:
        self.storage = sessions.storage
        self.clock = sessions.clock
        self.tokens = sessions.issuer
        self.principals = sessions.principals
        self.sessions = sessions
        self.verifier = sessions.verifier
        self.audit = sessions.audit
        self.denylist = sessions.denylist
        self.profiles = sessions.profiles  # shared with the Issuer, never copied
        self.issuer = sessions.config.issuer
        self.privileged = sessions.config.privileged_scopes
        self.config = config
        self.signins = SignIns(
            storage=self.storage,
            logins=logins,
            principals=self.principals,
            audit=self.audit,
            clock=self.clock,
            ttl=config.signin_ttl,
            profile=self.tokens.profile(config.profile),
        )
        # The registered web origins, read at most once per `ORIGINS_TTL` (CORS is asked often).
        self._origins: TtlCache[str, frozenset[str]] = TtlCache(self.clock, ORIGINS_TTL)
        self.id_tokens = IdTokenSigner(
            self.tokens.codec, self.tokens.keys, self.issuer, config.id_token_ttl
        )

    # ------------------------------------------------------------------ authorization

    async def check(self, raw: Mapping[str, Sequence[str]]) -> AuthorizationRequest:
        """The checked request. One that names no API scope asks for every scope the client
        is registered for but the privileged ones, which come only when named (issue 22); the
        consent page shows them, and the tokens carry those the user holds."""
        request = await check_request(raw, self.principals.cached_client)
        if not request.api_scopes:
            defaults = request.client.scopes - self.privileged
            request = replace(request, scopes=request.scopes | defaults)
        return request

    async def authorize(self, request: AuthorizationRequest, cookie: str | None) -> Outcome:
        """What the request needs next, given the browser's sign-in cookie."""
        signed = await self.signins.current(cookie)
        now = self.clock.now()
        too_old = (
            signed is not None
            and request.max_age is not None
            and now - signed[0].auth_time > request.max_age
        )
        weaker = signed is not None and wants_mfa(request.acr_values) and signed[0].acr != ACR_MFA
        if weaker and signed is not None:
            await self.audit.record(
                "mfa.step_up",
                "failure" if "none" in request.prompt else "success",
                signed[1].username,
                None,
                target=request.client.client_id,
                details={"signin_session": signed[0].id, "acr": signed[0].acr},
            )
        if too_old or weaker or "login" in request.prompt:
            signed = None
        if signed is None:
            if "none" in request.prompt:
                reason = (
                    "the request asks for a second factor the sign-in did not use"
                    if weaker
                    else "the user is not signed in"
                )
                raise _refusal(request, "login_required", reason)
            return NeedsLogin(request)
        session, user = signed
        if await self._needs_consent(request, user):
            if "none" in request.prompt:
                raise _refusal(request, "consent_required", "the user has not allowed this")
            return NeedsConsent(request, user)
        return CodeIssued(request, await issue_code(self.storage, request, session, now))

    async def _needs_consent(self, request: AuthorizationRequest, user: User) -> bool:
        if request.client.first_party:
            return False
        if "consent" in request.prompt:
            return True
        consent = await self.storage.get_consent(user.id, request.client.client_id)
        return consent is None or not consent.active or not request.scopes <= consent.scopes

    async def sign_in(
        self, identifier: str, password: str, ctx: RequestContext, *, want_mfa: bool = False
    ) -> SignedIn:
        return await self.signins.with_password(identifier, password, ctx, want_mfa=want_mfa)

    async def sign_in_enrolment(
        self, mfa_token: str, code: str, ctx: RequestContext
    ) -> tuple[SignedIn, list[str]]:
        return await self.signins.with_enrolment(mfa_token, code, ctx)

    async def sign_in_second_factor(
        self, mfa_token: str, method: str, code: str, ctx: RequestContext
    ) -> SignedIn:
        return await self.signins.with_second_factor(mfa_token, method, code, ctx)

    async def decide_consent(
        self, request: AuthorizationRequest, cookie: str | None, *, allow: bool
    ) -> Outcome:
        """The user's answer on the consent page. Deny is `access_denied`; Allow is
        remembered (with what was allowed before) until revoked."""
        signed = await self.signins.current(cookie)
        if signed is None:
            return NeedsLogin(request)
        session, user = signed
        if not allow:
            raise _refusal(request, "access_denied", "the user did not allow the request")
        now = self.clock.now()
        before = await self.storage.get_consent(user.id, request.client.client_id)
        earlier = before.scopes if before is not None and before.active else frozenset()
        await self.storage.put_consent(
            Consent(user.id, request.client.client_id, earlier | request.scopes, now)
        )
        await self.audit.record(
            "oidc.consent",
            "success",
            user.username,
            None,
            target=request.client.client_id,
            details={"scopes": sorted(request.scopes)},
        )
        return CodeIssued(request, await issue_code(self.storage, request, session, now))

    # ------------------------------------------------------------------ token endpoint

    async def redeem(
        self,
        client: Client,
        *,
        code: str,
        redirect_uri: str | None,
        verifier: str | None,
        ctx: RequestContext,
    ) -> IssuedTokens:
        """The authorization_code grant for an authenticated (or public) client."""
        now = self.clock.now()
        record, session_id = await redeem_code(
            self.storage,
            client,
            code=code,
            redirect_uri=redirect_uri,
            verifier=verifier,
            now=now,
            revoke=lambda sid, reason: self._revoke(sid, reason, ctx),
            ctx=ctx,
        )
        # The sign-in session was found not ended by the consuming statement itself.
        user = await self.storage.get_user(record.user_id)
        if user is None or user.disabled:
            raise InvalidGrant("the user can no longer sign in")
        principal = await self.principals.of_user(user)
        profile = (
            self.config.profile
            if REFRESH_TOKEN in client.grant_types
            else self.config.profile_without_refresh
        )
        issued = await self.tokens.issue(
            principal,
            (record.scopes - IDENTITY_SCOPES) & principal.scopes,
            profile,
            ctx,
            AuthMethod.PASSWORD,
            oauth_client=client.client_id,
            resources=record.resources,
            identity_scopes=record.scopes & IDENTITY_SCOPES,
            session_id=session_id,
            detail={"grant": "authorization_code", "signin_session": record.signin_session_id},
            amr=record.amr,
        )
        if OPENID not in record.scopes:
            return issued
        id_token = await self.id_tokens.sign(
            record,
            alg=client.id_token_signed_response_alg,
            access_token=issued.access_token,
            now=now,
        )
        return replace(issued, id_token=id_token)

    async def _revoke(self, session_id: str, reason: str, ctx: RequestContext) -> None:
        # Denied by id as well, in case the first redemption's session is still being made.
        now = self.clock.now()
        longest = max(p.longest_token_lifetime for p in self.profiles.values())
        await self.denylist.revoke(session_key(session_id), now + longest)
        await self.sessions.revoke_session(session_id, reason, ctx)
        await self.audit.record(
            "oidc.code_reuse", "failure", None, ctx, details={"session": session_id}
        )

    # ------------------------------------------------------------------ CORS

    async def allows_origin(self, origin: str) -> bool:
        """Whether a single-page app at `origin` may call the token, userinfo, revocation,
        JWKS and discovery endpoints: a client registered it as a web origin."""
        known = self._origins.get("all")
        if known is None:
            clients = await self.storage.list_clients()
            known = frozenset(
                origin for client in clients if not client.disabled for origin in client.web_origins
            )
            self._origins.put("all", known)
        return origin in known

    # ------------------------------------------------------------------ userinfo

    async def userinfo(self, token: str) -> dict[str, Any]:
        verified = await self.verifier.verify_access(token)
        if OPENID not in verified.scopes:
            raise InsufficientScope("the token was not issued with the openid scope")
        user = await self.storage.get_user(verified.subject)
        if user is None or user.disabled:
            raise TokenRevoked()
        return user_claims(user, verified.scopes)

    # ------------------------------------------------------------------ logout

    async def check_logout(self, params: Mapping[str, str]) -> LogoutRequest:
        """RP-initiated logout 1.0 §2: the client (from `client_id` or the hint's `aud`), and
        a post-logout redirect URI only if registered for it; else an `ErrorPage`."""
        client_id = params.get("client_id")
        hinted_sid = None
        hint = params.get("id_token_hint")
        if hint is not None:
            claims = await self._id_token_claims(hint)
            audience = claims.get("aud")
            if client_id is not None and audience != client_id:
                raise ErrorPage("the id_token_hint was issued to another application")
            client_id = audience if isinstance(audience, str) else None
            sid = claims.get("sid")
            hinted_sid = sid if isinstance(sid, str) else None
        client = await self.principals.cached_client(client_id) if client_id else None
        if client_id and client is None:
            raise ErrorPage("the application that sent you here is not registered with gatepass")
        target = params.get("post_logout_redirect_uri")
        if target is not None:
            if client is None:
                raise ErrorPage("post_logout_redirect_uri needs client_id or id_token_hint")
            if not redirect_matches(target, client.post_logout_redirect_uris):
                raise ErrorPage(
                    "the post_logout_redirect_uri is not registered for this application"
                )
        return LogoutRequest(client, target, params.get("state"), hinted_sid)

    async def _id_token_claims(self, token: str) -> Mapping[str, Any]:
        """One of our ID tokens (signature and issuer; it may have expired, as RPs keep them)."""
        try:
            verified = await self.verifier.verify_signature(token)
        except InvalidToken:
            raise ErrorPage("the id_token_hint is not an ID token gatepass issued") from None
        claims = verified.claims
        if claims.get("iss") != self.issuer or "token_use" in claims or "azp" not in claims:
            raise ErrorPage("the id_token_hint is not an ID token gatepass issued")
        return claims

    async def current_signin(self, cookie: str | None) -> tuple[SigninSession, User] | None:
        return await self.signins.current(cookie)

    async def end_session(self, cookie: str | None, ctx: RequestContext) -> bool:
        """End the browser's sign-in session (the cookie's); False if it had none."""
        signed = await self.signins.current(cookie)
        if signed is None:
            return False
        session, user = signed
        return await self.signins.end(session.id, ctx, user.username)

    @staticmethod
    def same_session(logout: LogoutRequest, session: SigninSession) -> bool:
        return logout.hinted_sid is not None and hmac.compare_digest(
            logout.hinted_sid.encode(), session.id.encode()
        )


def wants_mfa(acr_values: Sequence[str]) -> bool:
    """Whether an authorization request's `acr_values` (OIDC Core §3.1.2.1, a voluntary
    request: values gatepass does not know are ignored) ask for a second factor."""
    return ACR_MFA in acr_values


def _refusal(request: AuthorizationRequest, error: str, description: str) -> AuthorizationError:
    refusal = AuthorizationError(error, description)
    refusal.request = request
    return refusal
