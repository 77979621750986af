"""The authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2) as a list
of small named checks, in the order node-oidc-provider runs them.

The first two checks (`client`, `redirect_uri`) decide whether the client can be trusted with
a redirect; until they pass, every refusal is an `ErrorPage`. After them, refusals are
`AuthorizationError`s sent back to the registered redirect URI. Nothing here knows HTTP: the
request arrives as its parameters, each with all the values it was given.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gatepass.core.errors import InvalidTarget
from gatepass.core.models import Client
from gatepass.core.oauth import AUTHORIZATION_CODE, REFRESH_TOKEN
from gatepass.core.oidc.claims import OFFLINE_ACCESS
from gatepass.core.oidc.errors import AuthorizationError, ErrorPage
from gatepass.core.oidc.redirects import redirect_matches
from gatepass.core.resources import parse_resources
from gatepass.core.scopes import IDENTITY_SCOPES, is_scope_token
from gatepass.core.text import clip

RESPONSE_MODES = ("query", "form_post")
PROMPTS = ("none", "login", "consent")
# RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"; an S256
# challenge is the 43-character base64url of a SHA-256 digest.
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_PARAM = 2048
# Parameters OpenID Connect defines that this provider does not support (Core §6, §3.1.2.1).
_UNSUPPORTED = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "registration": "registration_not_supported",
}


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorization request: everything a code is bound to, and what the user
    interaction needs (prompt, max_age, login_hint)."""

    client: Client
    redirect_uri: str
    response_mode: str = "query"
    state: str | None = None
    scopes: frozenset[str] = frozenset()
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: frozenset[str] = frozenset()
    max_age: int | None = None
    login_hint: str | None = None
    acr_values: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_scopes(self) -> frozenset[str]:
        return self.scopes - IDENTITY_SCOPES

    @property
    def identity_scopes(self) -> frozenset[str]:
        return self.scopes & IDENTITY_SCOPES


ClientLookup = Callable[[str], Awaitable[Client | None]]
Check = Callable[[AuthorizationRequest], AuthorizationRequest]


async def check_request(
    raw: Mapping[str, Sequence[str]], find_client: ClientLookup
) -> AuthorizationRequest:
    """Run every check; the checked request, or `ErrorPage` / `AuthorizationError`."""
    params = await _params(raw)
    client = await _client(params, find_client)
    request = AuthorizationRequest(
        client=client,
        redirect_uri=_redirect_uri(params, client),
        state=params.get("state"),
        params=params,
        resources=tuple(raw.get("resource", ())),
    )
    # From here on the redirect URI is trusted: errors go back to it.
    try:
        request = response_mode(request)
    except AuthorizationError as refusal:
        refusal.request = request
        raise
    try:
        if len(raw.get("resource", ())) != len(set(raw.get("resource", ()))):
            raise AuthorizationError("invalid_request", "a resource is named twice")
        for check in CHECKS:
            request = check(request)
    except AuthorizationError as refusal:
        refusal.request = request
        raise
    return request


async def _params(raw: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """One value per parameter (RFC 6749 §3.1: none may repeat, but `resource`); empty ones
    count as absent."""
    single: dict[str, str] = {}
    for name, values in raw.items():
        present = [value for value in values if value != ""]
        if name == "resource" or not present:
            continue
        if len(present) > 1:
            if name in ("client_id", "redirect_uri"):
                raise ErrorPage(f"the {name} parameter is given more than once")
            single["__duplicate__"] = name
            continue
        if len(present[0]) > MAX_PARAM:
            if name in ("client_id", "redirect_uri"):
                raise ErrorPage(f"the {name} parameter is too long")
            single["__too_long__"] = name
            continue
        single[name] = present[0]
    return single


async def _client(params: Mapping[str, str], find_client: ClientLookup) -> Client:
    client_id = params.get("client_id")
    if not client_id:
        raise ErrorPage("the request names no client (client_id is missing)")
    client = await find_client(client_id)
    if client is None or client.disabled:
        raise ErrorPage("the application that sent you here is not registered with gatepass")
    return client


def _redirect_uri(params: Mapping[str, str], client: Client) -> str:
    uri = params.get("redirect_uri")
    if not uri:
        # OpenID Connect Core §3.1.2.1 makes it required; so do we, for every request.
        raise ErrorPage("the request names no redirect_uri")
    if not redirect_matches(uri, client.redirect_uris):
        raise ErrorPage(
            "the redirect_uri is not one registered for this application, so gatepass "
            "will not send you there"
        )
    return uri


def response_mode(request: AuthorizationRequest) -> AuthorizationRequest:
    mode = request.params.get("response_mode", "query")
    if mode not in RESPONSE_MODES:
        raise AuthorizationError("invalid_request", "response_mode must be query or form_post")
    return replace(request, response_mode=mode)


def duplicates(request: AuthorizationRequest) -> AuthorizationRequest:
    name = request.params.get("__duplicate__")
    if name:
        raise AuthorizationError("invalid_request", f"the {clip(name)} parameter is repeated")
    long = request.params.get("__too_long__")
    if long:
        raise AuthorizationError("invalid_request", f"the {clip(long)} parameter is too long")
    return request


def unsupported(request: AuthorizationRequest) -> AuthorizationRequest:
    for name, error in _UNSUPPORTED.items():
        if name in request.params:
            raise AuthorizationError(error, f"the {name} parameter is not supported")
    return request


def response_type(request: AuthorizationRequest) -> AuthorizationRequest:
    value = request.params.get("response_type")
    if value is None:
        raise AuthorizationError("invalid_request", "the response_type parameter is required")
    if value != "code":
        raise AuthorizationError(
            "unsupported_response_type", "only the authorization code flow (code) is supported"
        )
    if AUTHORIZATION_CODE not in request.client.grant_types:
        raise AuthorizationError(
            "unauthorized_client", "this application may not use the authorization code flow"
        )
    return request


def scope(request: AuthorizationRequest) -> AuthorizationRequest:
    """Identity scopes, and API scopes the client is registered for; `offline_access` only
    for a client with the refresh_token grant (dropped otherwise, OpenID Connect Core §11)."""
    words = request.params.get("scope", "").split(" ")
    asked = frozenset(word for word in words if word)
    if not all(is_scope_token(word) for word in asked):
        raise AuthorizationError("invalid_scope", "scope must be space-separated scope tokens")
    foreign = sorted(asked - IDENTITY_SCOPES - request.client.scopes)
    if foreign:
        raise AuthorizationError(
            "invalid_scope", f"this application may not ask for {clip(foreign[0])!r}"
        )
    if REFRESH_TOKEN not in request.client.grant_types:
        asked -= {OFFLINE_ACCESS}
    return replace(request, scopes=asked)


def pkce(request: AuthorizationRequest) -> AuthorizationRequest:
    """RFC 7636 with S256 only: required of public clients, accepted from confidential ones."""
    challenge = request.params.get("code_challenge")
    method = request.params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise AuthorizationError("invalid_request", "code_challenge_method without a challenge")
        if request.client.public:
            raise AuthorizationError(
                "invalid_request", "PKCE (code_challenge with method S256) is required"
            )
        return request
    if method != "S256":
        # `plain` (or no method, which means plain, RFC 7636 §4.3) is refused (RFC 9700 §2.1.1).
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256")
    if not _S256_CHALLENGE.match(challenge):
        raise AuthorizationError("invalid_request", "the code_challenge is not an S256 challenge")
    return replace(request, code_challenge=challenge, code_challenge_method=method)


def prompt(request: AuthorizationRequest) -> AuthorizationRequest:
    values = frozenset(request.params.get("prompt", "").split())
    unknown = sorted(values - set(PROMPTS))
    if unknown:
        raise AuthorizationError(
            "invalid_request", f"unsupported prompt value {clip(unknown[0])!r}"
        )
    if "none" in values and len(values) > 1:
        raise AuthorizationError("invalid_request", "prompt=none cannot be combined")
    return replace(request, prompt=values)


def max_age(request: AuthorizationRequest) -> AuthorizationRequest:
    value = request.params.get("max_age")
    if value is None:
        return request
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise AuthorizationError("invalid_request", "max_age must be a number of seconds")
    return replace(request, max_age=int(value))


def hints(request: AuthorizationRequest) -> AuthorizationRequest:
    """nonce, login_hint and acr_values are kept (acr_values is enforced by the service's
    `authorize`: a step-up); ui_locales, display and the like are
    accepted and ignored (OpenID Connect Core §3.1.2.1)."""
    acr = tuple(request.params.get("acr_values", "").split())
    return replace(
        request,
        nonce=request.params.get("nonce"),
        login_hint=request.params.get("login_hint"),
        acr_values=acr,
    )


def resources(request: AuthorizationRequest) -> AuthorizationRequest:
    """RFC 8707 applies to the authorization request too (issue 22): the form is checked
    here, registration at the token endpoint, where the grant is made."""
    try:
        return replace(request, resources=parse_resources(request.resources))
    except InvalidTarget as refusal:
        raise AuthorizationError("invalid_target", refusal.description) from None


CHECKS: tuple[Check, ...] = (
    duplicates,
    unsupported,
    response_type,
    scope,
    pkce,
    prompt,
    max_age,
    hints,
    resources,
)
