"""OAuth 2.0 over the AuthService: the token endpoint's grants (RFC 6749), introspection
(RFC 7662) and revocation (RFC 7009).

Nothing here knows HTTP. The surface (`gatepass.http.oauth2`) parses a request into the values
below, makes one call to `OAuthService`, and renders the result, or the typed error with the
RFC 6749 §5.2 codes. Every call authenticates the calling client first: a failure there is
`InvalidClient`, never confused with a failed resource-owner password (`InvalidGrant`).

What each client may do is data on the client (`Client.grant_types`); see docs/decisions.md
for why the default is `client_credentials` alone, and who may introspect and revoke what.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gatepass.core.errors import (
    ExternalTokenRejected,
    GatepassError,
    InvalidCredentials,
    InvalidGrant,
    InvalidRequest,
    InvalidTarget,
    InvalidToken,
    WrongTokenType,
)
from gatepass.core.models import (
    AuditEvent,
    AuthMethod,
    Client,
    IssuedTokens,
    Principal,
    PrincipalKind,
    RequestContext,
    Session,
    VerifiedToken,
)
from gatepass.core.policies import scope_string
from gatepass.core.service import AuthService
from gatepass.core.tokens import ACCESS, REFRESH
from gatepass.core.verification import jti_key

AUTHORIZATION_CODE = "authorization_code"  # RFC 6749 §4.1, OpenID Connect (core/oidc)
CLIENT_CREDENTIALS = "client_credentials"
PASSWORD = "password"
REFRESH_TOKEN = "refresh_token"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"  # RFC 7523 §2.1
GRANT_TYPES = (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    PASSWORD,
    REFRESH_TOKEN,
    TOKEN_EXCHANGE,
    JWT_BEARER,
)
# RFC 8693 §3: the subject token types an external provider's JWT may be presented as.
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TOKEN_TYPES = frozenset(
    {
        ACCESS_TOKEN_TYPE,
        "urn:ietf:params:oauth:token-type:id_token",
        "urn:ietf:params:oauth:token-type:jwt",
    }
)
DEFAULT_GRANT_TYPES = frozenset({CLIENT_CREDENTIALS})

# Claims never shown by introspection: a cloudio csrf value is a second factor of the token.
_HIDDEN_CLAIMS = frozenset({"csrf"})


class InvalidClient(InvalidCredentials):
    """Client authentication failed: unknown client, wrong secret, disabled, or none given."""

    code = "invalid_client"
    default_description = "client authentication failed"


class UnauthorizedClient(GatepassError):
    code = "unauthorized_client"
    default_description = "the client is not allowed to use this grant type"


class UnsupportedGrantType(GatepassError):
    code = "unsupported_grant_type"
    default_description = "the grant type is not supported"


# Short names for the URN grant types, for humans typing `gatepass client add --grant …`.
GRANT_ALIASES = {"token-exchange": TOKEN_EXCHANGE, "jwt-bearer": JWT_BEARER}


def validate_grant_types(values: Iterable[str]) -> frozenset[str]:
    """Grant types for a client; `none` alone means none (a client that only introspects)."""
    chosen = [GRANT_ALIASES.get(value.strip(), value.strip()) for value in values if value.strip()]
    if chosen == ["none"]:
        return frozenset()
    unknown = sorted(set(chosen) - set(GRANT_TYPES))
    if unknown:
        raise InvalidRequest(
            f"unknown grant type(s) {', '.join(unknown)}; choose from "
            f"{', '.join((AUTHORIZATION_CODE, CLIENT_CREDENTIALS, PASSWORD, REFRESH_TOKEN))}, "
            f"{', '.join(GRANT_ALIASES)}"
        )
    return frozenset(chosen)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What the caller presented, by HTTP Basic or in the body (the surface decides)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    subject_token: str | None = None  # token exchange
    subject_token_type: str | None = None
    requested_token_type: str | None = None
    actor_token: str | None = None
    audience: str | None = None
    assertion: str | None = None  # JWT bearer
    resources: tuple[str, ...] = ()  # RFC 8707: the registered APIs the token is for
    code: str | None = None  # authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5)
    redirect_uri: str | None = None
    code_verifier: str | None = None


@dataclass(frozen=True, slots=True)
class OAuthProfiles:
    """Token profile names (filled in by `gatepass.app.profiles`)."""

    client_credentials: str  # stateless: no session, revocable by jti or by client
    password: str  # a session with a rotating refresh token
    password_without_refresh: str  # for clients not allowed the refresh_token grant
    authorization_code: str = "oidc"  # browser sign-in (core/oidc): refreshable like password


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    principal: Principal
    client: Client

    @property
    def client_id(self) -> str:
        return self.client.client_id


# The authorization_code grant, decided in core/oidc (the surface hands it in):
# (client, code, redirect_uri, code_verifier, ctx) -> tokens.
CodeRedeemer = Callable[
    [Client, str, str | None, str | None, RequestContext], Awaitable[IssuedTokens]
]
# What a client without a secret (`Client.public`) may do at the token endpoint.
_PUBLIC_GRANTS = frozenset({AUTHORIZATION_CODE, REFRESH_TOKEN})


class OAuthService:
    def __init__(
        self,
        auth: AuthService,
        profiles: OAuthProfiles,
        redeem_code: CodeRedeemer | None = None,
    ) -> None:
        self.auth = auth
        self.profiles = profiles
        self.redeem_code = redeem_code

    async def authenticate(
        self, credentials: ClientCredentials | None, ctx: RequestContext
    ) -> AuthenticatedClient:
        """Throttled and audited like every login; any failure is `InvalidClient`."""
        if credentials is None:
            raise InvalidClient("client authentication is required")
        if credentials.client_secret == "":
            return await self._public(credentials.client_id)
        try:
            principal = await self.auth.authenticate_client(
                credentials.client_id, credentials.client_secret, ctx
            )
        except InvalidCredentials:
            raise InvalidClient() from None
        client = await self.auth.cached_client(credentials.client_id)
        if client is None:  # deleted a moment ago
            raise InvalidClient()
        return AuthenticatedClient(principal, client)

    async def _public(self, client_id: str) -> AuthenticatedClient:
        """A client that presented only its id: it must be registered as public (no secret),
        and may then use only the grants PKCE protects (issue 17)."""
        client = await self.auth.principals.client(client_id, fresh=True)
        if client is None or not client.public or client.disabled:
            raise InvalidClient()
        return AuthenticatedClient(self.auth.principals.of_client(client), client)

    # ------------------------------------------------------------------ token endpoint

    async def token(
        self, credentials: ClientCredentials | None, request: TokenRequest, ctx: RequestContext
    ) -> IssuedTokens:
        caller = await self.authenticate(credentials, ctx)
        grant = request.grant_type
        if grant not in GRANT_TYPES:
            raise UnsupportedGrantType(f"unsupported grant type {grant[:64]!r}")
        if grant not in caller.client.grant_types:
            raise UnauthorizedClient(f"the client is not allowed the {grant} grant")
        if caller.client.public and grant not in _PUBLIC_GRANTS:
            raise UnauthorizedClient(f"a public client cannot use the {grant} grant")
        if grant == AUTHORIZATION_CODE:
            if self.redeem_code is None:
                raise UnsupportedGrantType("the authorization code grant is not served here")
            return await self.redeem_code(
                caller.client,
                _required(request.code, "code"),
                request.redirect_uri,
                request.code_verifier,
                ctx,
            )
        if grant == CLIENT_CREDENTIALS:
            return await self.auth.login_principal(
                caller.principal,
                scope=request.scope,
                profile=self.profiles.client_credentials,
                ctx=ctx,
                method=AuthMethod.CLIENT_SECRET,
                resources=request.resources,
            )
        if grant == PASSWORD:
            return await self._password(caller, request, ctx)
        if grant == TOKEN_EXCHANGE:
            return await self._token_exchange(caller, request, ctx)
        if grant == JWT_BEARER:
            assertion = _required(request.assertion, "assertion")
            # RFC 7523 §3.1: an assertion that is not valid is an invalid grant.
            return await self._external(caller, assertion, request, ctx, InvalidGrant)
        return await self.auth.refresh(
            _required(request.refresh_token, "refresh_token"),
            ctx=ctx,
            profiles=(self.profiles.password, self.profiles.authorization_code),
            client_id=caller.client_id,
            scope=request.scope,
            resources=request.resources,
        )

    async def _password(
        self, caller: AuthenticatedClient, request: TokenRequest, ctx: RequestContext
    ) -> IssuedTokens:
        username = _required(request.username, "username")
        password = _required(request.password, "password")
        profile = self._session_profile(caller)
        try:
            return await self.auth.login_password(
                username,
                password,
                scope=request.scope,
                profile=profile,
                ctx=ctx,
                oauth_client=caller.client_id,
                resources=request.resources,
            )
        except InvalidCredentials:
            # The resource owner's credentials are the grant (RFC 6749 §5.2).
            raise InvalidGrant("invalid resource owner credentials") from None

    async def _token_exchange(
        self, caller: AuthenticatedClient, request: TokenRequest, ctx: RequestContext
    ) -> IssuedTokens:
        subject_token = _required(request.subject_token, "subject_token")
        token_type = _required(request.subject_token_type, "subject_token_type")
        if token_type not in SUBJECT_TOKEN_TYPES:
            raise InvalidRequest("subject_token_type must be an access_token, id_token or jwt")
        if request.actor_token is not None:
            raise InvalidRequest("delegation (actor_token) is not supported")
        if request.requested_token_type not in (None, ACCESS_TOKEN_TYPE):
            raise InvalidRequest("only access tokens can be requested")
        if request.audience is not None and request.audience != self.auth.config.audience:
            raise InvalidTarget(f"tokens are issued for {self.auth.config.audience} only")
        # RFC 8693 §2.2.2: an unacceptable subject token is an invalid request.
        return await self._external(caller, subject_token, request, ctx, InvalidRequest)

    async def _external(
        self,
        caller: AuthenticatedClient,
        token: str,
        request: TokenRequest,
        ctx: RequestContext,
        refusal: type[GatepassError],
    ) -> IssuedTokens:
        """A trusted provider's token for a session bound to the calling client."""
        try:
            return await self.auth.login_external(
                token,
                tenant=None,
                scope=request.scope,
                profile=self._session_profile(caller),
                ctx=ctx,
                oauth_client=caller.client_id,
                resources=request.resources,
            )
        except (ExternalTokenRejected, InvalidCredentials) as exc:
            raise refusal(f"the token was refused: {exc.description}") from None

    def _session_profile(self, caller: AuthenticatedClient) -> str:
        if REFRESH_TOKEN in caller.client.grant_types:
            return self.profiles.password
        return self.profiles.password_without_refresh

    # ------------------------------------------------------------------ introspection

    async def introspect(
        self,
        credentials: ClientCredentials | None,
        token: str,
        *,
        hint: str | None,
        csrf: str | None,
        ctx: RequestContext,
    ) -> dict[str, Any]:
        """RFC 7662: the token's claims with `active: true`, or only `active: false` for
        anything not valid right now (expired, revoked, logged out, foreign, malformed)."""
        caller = await self.authenticate(credentials, ctx)
        if caller.client.public:
            raise InvalidClient("a public client cannot introspect tokens")
        first, second = (
            (self._refresh_info, self._access_info)
            if hint == REFRESH_TOKEN
            else (self._access_info, self._refresh_info)
        )
        try:
            try:
                return await first(token, csrf)
            except WrongTokenType:
                return await second(token, csrf)
        except (InvalidToken, InvalidGrant):
            return {"active": False}

    async def _access_info(self, token: str, csrf: str | None) -> dict[str, Any]:
        # Every access token gatepass issued, whichever API it is for: `aud` says which.
        verified = await self.auth.verify_access(token, csrf=csrf, any_audience=True)
        session = None
        if verified.session_id:
            session = await self.auth.storage.get_session(verified.session_id)
            if session is None or not session.active_at(self.auth.clock.now()):
                return {"active": False}
        info = _visible_claims(verified)
        info["token_type"] = "Bearer"
        return _with_principal(info, session)

    async def _refresh_info(self, token: str, csrf: str | None) -> dict[str, Any]:
        verified, session = await self.auth.verify_refresh(token)
        info = _visible_claims(verified)
        info["token_type"] = REFRESH_TOKEN
        info["scope"] = scope_string(session.scopes)
        if session.org_uid:
            info["org"] = session.org_uid
        return _with_principal(info, session)

    # ------------------------------------------------------------------ revocation

    async def revoke(
        self,
        credentials: ClientCredentials | None,
        token: str,
        *,
        hint: str | None,
        ctx: RequestContext,
    ) -> None:
        """RFC 7009. A refresh token ends its whole session; an access token is denied alone.
        Tokens that are not ours, malformed or already expired need nothing (success); a token
        issued to another client is `UnauthorizedClient`. `hint` is not needed: the token
        says what it is, once its signature is checked."""
        del hint
        caller = await self.authenticate(credentials, ctx)
        try:
            verified = await self.auth.verify_signature(token)
            use = verified.token_use
            if use not in (ACCESS, REFRESH):
                return
            self.auth.codec.check_claims(
                verified, now=self.auth.clock.now(), use=use, audience=None, check_expiry=False
            )
        except InvalidToken:
            return
        if use == REFRESH:
            await self._revoke_refresh(caller, verified, ctx)
        else:
            await self._revoke_access(caller, verified, ctx)

    async def _revoke_refresh(
        self, caller: AuthenticatedClient, verified: VerifiedToken, ctx: RequestContext
    ) -> None:
        session = await self.auth.storage.get_session(verified.session_id or "")
        if session is None:
            return
        if _issued_to(session) != caller.client_id:
            raise UnauthorizedClient("the token was not issued to this client")
        await self.auth.revoke_session(session.id, "oauth_revoke", ctx, actor=caller.client_id)

    async def _revoke_access(
        self, caller: AuthenticatedClient, verified: VerifiedToken, ctx: RequestContext
    ) -> None:
        if verified.claims.get("client_id") != caller.client_id:
            raise UnauthorizedClient("the token was not issued to this client")
        now = self.auth.clock.now()
        until = verified.expires_at + self.auth.config.leeway
        if until <= now:
            return
        await self.auth.denylist.revoke(jti_key(verified.jti), until)
        await self.auth.storage.audit.record(
            AuditEvent(
                at=now,
                event="token.revoke",
                outcome="success",
                actor=caller.client_id,
                target=verified.subject,
                ip=ctx.ip,
                user_agent=(ctx.user_agent or "")[:256] or None,
                surface=ctx.surface,
                details={"jti": verified.jti, "session": verified.session_id},
            )
        )


def _required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidRequest(f"the {name} parameter is required")
    return value


def _issued_to(session: Session) -> str | None:
    """The client a session's tokens belong to: its OAuth client, or the client that is it."""
    if session.oauth_client_id is not None:
        return session.oauth_client_id
    if session.principal_kind is PrincipalKind.CLIENT:
        return session.principal_id
    return None


def _visible_claims(verified: VerifiedToken) -> dict[str, Any]:
    info: dict[str, Any] = {"active": True}
    info.update((k, v) for k, v in verified.claims.items() if k not in _HIDDEN_CLAIMS)
    return info


def _with_principal(info: dict[str, Any], session: Session | None) -> dict[str, Any]:
    if session is None:
        return info  # a stateless client token: its claims already say everything
    client_id = _issued_to(session)
    if client_id is not None:
        info["client_id"] = client_id
    if session.principal_kind is PrincipalKind.USER:
        info["username"] = session.subject
    return info
