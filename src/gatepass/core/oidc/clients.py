"""OpenID Connect clients and consents, as the admin manages them (CLI, admin API, console).

`OidcAdmin` sits beside `AdminService` (which it uses for what every client has: name, org,
scopes, grants, the secret) and adds what a browser sign-in client has: redirect URIs,
post-logout redirect URIs, web origins, public or confidential, first-party, and the ID token
algorithm. A public client has no secret (its stored digest is empty, which no secret's
digest equals); PKCE proves it at the token endpoint instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gatepass.core.admin import AdminService, NewClient
from gatepass.core.errors import InvalidRequest, NotFound
from gatepass.core.models import Client, PrincipalKind, RequestContext
from gatepass.core.oauth import AUTHORIZATION_CODE, REFRESH_TOKEN, validate_grant_types
from gatepass.core.oidc.models import Consent
from gatepass.core.oidc.redirects import checked, redirect_uri_problem, web_origin_problem
from gatepass.core.ports import SessionQuery
from gatepass.core.text import clip

ID_TOKEN_ALGS = ("RS256", "ES256")
DEFAULT_ID_TOKEN_ALG = "RS256"
# What a client without a secret may do: nothing that needs client authentication.
PUBLIC_GRANTS = frozenset({AUTHORIZATION_CODE, REFRESH_TOKEN})


@dataclass(frozen=True, slots=True)
class ConsentView:
    """A consent with the names a person reads (surfaces show these)."""

    consent: Consent
    username: str | None
    client_name: str | None


def check_id_token_alg(alg: str) -> str:
    if alg not in ID_TOKEN_ALGS:
        raise InvalidRequest(
            f"unsupported ID token algorithm {clip(alg)!r}; choose from {', '.join(ID_TOKEN_ALGS)}"
        )
    return alg


class OidcAdmin:
    def __init__(self, admin: AdminService) -> None:
        self.admin = admin
        self.storage = admin.storage
        self.clock = admin.clock

    async def add_client(
        self,
        name: str,
        *,
        redirect_uris: Sequence[str],
        grant_types: Sequence[str] = (AUTHORIZATION_CODE,),
        public: bool = False,
        first_party: bool = False,
        post_logout_redirect_uris: Sequence[str] = (),
        web_origins: Sequence[str] = (),
        id_token_alg: str = DEFAULT_ID_TOKEN_ALG,
        scopes: Sequence[str] = (),
        org: str | None = None,
        client_id: str | None = None,
        actor: str,
    ) -> NewClient:
        """Register a client for browser sign-in. The returned `client_secret` is shown once;
        it is "" for a public client (which has none)."""
        grants = validate_grant_types(grant_types)
        oidc = self._oidc_fields(
            grants,
            public=public,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            web_origins=web_origins,
            id_token_alg=id_token_alg,
        )
        created = await self.admin.add_client(
            name,
            org=org,
            scopes=scopes,
            client_id=client_id,
            grant_types=sorted(grants) or ["none"],
            actor=actor,
        )
        client = created.client.evolve(
            **oidc,
            public=public,
            first_party=first_party,
            secret_digest="" if public else created.client.secret_digest,
        )
        await self.storage.update_client(client)
        await self.admin._audit("admin.client.oidc", actor, client.client_id, _details(client))
        return NewClient(client, "" if public else created.client_secret)

    async def set_redirects(
        self,
        client_id: str,
        *,
        redirect_uris: Sequence[str] | None = None,
        post_logout_redirect_uris: Sequence[str] | None = None,
        web_origins: Sequence[str] | None = None,
        first_party: bool | None = None,
        id_token_alg: str | None = None,
        actor: str,
    ) -> Client:
        """Change what is given (None: unchanged); an empty list clears that list."""
        client = await self.admin.get_client(client_id)
        changes: dict[str, Any] = {}
        if redirect_uris is not None:
            changes["redirect_uris"] = checked(redirect_uris, redirect_uri_problem)
            if AUTHORIZATION_CODE in client.grant_types and not changes["redirect_uris"]:
                raise InvalidRequest("an authorization_code client needs a redirect URI")
        if post_logout_redirect_uris is not None:
            changes["post_logout_redirect_uris"] = checked(
                post_logout_redirect_uris, redirect_uri_problem
            )
        if web_origins is not None:
            changes["web_origins"] = checked(web_origins, web_origin_problem)
        if first_party is not None:
            changes["first_party"] = first_party
        if id_token_alg is not None:
            changes["id_token_signed_response_alg"] = check_id_token_alg(id_token_alg)
        updated = client.evolve(**changes, updated_at=self.clock.now())
        await self.storage.update_client(updated)
        self.admin.principals.invalidate_cached(PrincipalKind.CLIENT, client_id)
        await self.admin._audit("admin.client.oidc", actor, client_id, _details(updated))
        return updated

    # ------------------------------------------------------------------ consents

    async def list_consents(
        self, *, user: str | None = None, client_id: str | None = None
    ) -> list[ConsentView]:
        """Active consents; `user` is a username, email or id."""
        user_id = (await self.admin.get_user(user)).id if user else None
        consents = await self.storage.list_consents(user_id=user_id, client_id=client_id)
        views = []
        for consent in consents:
            owner = await self.storage.get_user(consent.user_id)
            client = await self.storage.get_client(consent.client_id)
            views.append(
                ConsentView(
                    consent,
                    owner.username if owner else None,
                    client.name if client else None,
                )
            )
        return views

    async def revoke_consent(self, user: str, client_id: str, *, actor: str) -> int:
        """Forget what the user allowed the client, and end the sessions the client holds
        for the user (their tokens stop working at once): the number of sessions ended."""
        owner = await self.admin.get_user(user)
        if not await self.storage.revoke_consent(owner.id, client_id, self.clock.now()):
            raise NotFound(f"{clip(owner.username)} has not allowed client {clip(client_id)}")
        sessions = await self.storage.list_sessions(SessionQuery(principal_id=owner.id, limit=1000))
        ended = 0
        for session in sessions:
            if session.oauth_client_id == client_id and session.revoked_at is None:
                ended += await self.admin.sessions.revoke_session(
                    session.id, "consent_revoked", RequestContext(surface="admin"), actor=actor
                )
        await self.admin._audit(
            "admin.consent.revoke", actor, owner.username, {"client": client_id, "sessions": ended}
        )
        return ended

    # ------------------------------------------------------------------ checks

    def _oidc_fields(
        self,
        grants: frozenset[str],
        *,
        public: bool,
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str],
        web_origins: Sequence[str],
        id_token_alg: str,
    ) -> dict[str, Any]:
        if public and not grants <= PUBLIC_GRANTS:
            extra = ", ".join(sorted(grants - PUBLIC_GRANTS))
            raise InvalidRequest(
                f"a public client has no secret, so it cannot use {extra}; "
                "use authorization_code (and refresh_token)"
            )
        uris = checked(redirect_uris, redirect_uri_problem)
        if AUTHORIZATION_CODE in grants and not uris:
            raise InvalidRequest("an authorization_code client needs at least one --redirect-uri")
        return {
            "redirect_uris": uris,
            "post_logout_redirect_uris": checked(post_logout_redirect_uris, redirect_uri_problem),
            "web_origins": checked(web_origins, web_origin_problem),
            "id_token_signed_response_alg": check_id_token_alg(id_token_alg),
        }


def _details(client: Client) -> dict[str, Any]:
    return {
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "web_origins": list(client.web_origins),
        "public": client.public,
        "first_party": client.first_party,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
    }
