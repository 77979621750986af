"""The admin REST API under `/admin/…`: orgs, roles, users, clients, API keys, registered
APIs (resources), sessions, signing keys, the audit log and the dashboard figures.

Every call needs a Bearer access token carrying the `gatepass:admin` scope, and the principal
must still hold that scope now (a role taken away stops working at once, not when the token
expires). Each handler parses, makes one `AdminService` call (which validates and audits it
with the acting admin's name), and renders in the native JSON shape, errors included.

Lists share one envelope: `{"items": [...], "next": "/admin/…?…" | null}`, where `next` is the
path of the following page. Pages are `limit`/`offset` except the audit log, which pages by
`before_id` (new events arriving between two pages do not shift it). Secrets (a client
secret, an API key) appear only in the response that creates or rotates them.

A resource is one section below: its wire models, its handlers, and its `Endpoint` lines in
`AdminApi.endpoints()` (an `issuers` resource, for trusted external issuers, would be added
the same way).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.requests import Request
from starlette.responses import Response

from gatepass.app.container import trusted_issuer
from gatepass.config import IssuerConfig
from gatepass.core.dashboard import DashboardFigures
from gatepass.core.errors import InvalidToken
from gatepass.core.external import TrustedIssuer
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    Client,
    Org,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.policies import ADMIN_SCOPE, require
from gatepass.core.ports import AuditQuery
from gatepass.durations import parse_duration
from gatepass.http.context import Gate
from gatepass.http.native import ErrorResponse, native_errors, validated
from gatepass.http.openapi import Doc, Endpoint, query_param
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    bearer_token,
    json_response,
    parse_json_object,
    read_body,
)
from gatepass.views import iso, resource_view

SURFACE = "admin"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class _In(BaseModel):
    """Request bodies: exact types, and an unknown member is an error (a typo must not be a
    silently ignored change)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _page_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        name,
        __doc__=f"A page of {item.__name__}; `next` is the path of the following page or null.",
        items=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, None),
    )


# ---------------------------------------------------------------------- wire models


class OrgOut(BaseModel):
    uid: str
    name: str
    created_at: str


class NewOrg(_In):
    uid: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)


class OrgChanges(_In):
    name: str = Field(max_length=256, description="the display name; empty means the uid")


class RoleOut(BaseModel):
    name: str
    scopes: list[str]
    description: str


class RoleIn(_In):
    scopes: list[str] = Field(min_length=1, max_length=256)
    description: str = Field(default="", max_length=1024)


class UserOut(BaseModel):
    id: str
    username: str
    email: str | None
    display_name: str | None
    org: str | None
    roles: list[str]
    scopes: list[str]
    disabled: bool
    has_password: bool
    created_at: str
    updated_at: str


class NewUser(_In):
    username: str = Field(max_length=128)
    password: str | None = Field(default=None, max_length=1024)
    email: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    roles: list[str] = Field(default_factory=list, max_length=64)
    scopes: list[str] = Field(default_factory=list, max_length=256)


class UserChanges(_In):
    """Members left out are unchanged; an empty string clears email, display name or org."""

    email: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    roles: list[str] | None = Field(default=None, max_length=64)
    scopes: list[str] | None = Field(default=None, max_length=256)


class PasswordIn(_In):
    password: str = Field(max_length=1024)


class ClientOut(BaseModel):
    client_id: str
    name: str
    org: str | None
    scopes: list[str]
    metadata: dict[str, str]
    disabled: bool
    created_at: str
    updated_at: str


class ClientWithSecret(ClientOut):
    client_secret: str


class NewClientIn(_In):
    name: str = Field(max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] = Field(default_factory=list, max_length=256)
    metadata: dict[str, str] = Field(default_factory=dict)
    client_id: str | None = Field(default=None, max_length=128)


class ClientChanges(_In):
    name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    scopes: list[str] | None = Field(default=None, max_length=256)
    metadata: dict[str, str] | None = None


class ApiKeyOut(BaseModel):
    id: str
    user_id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


class ApiKeyWithSecret(ApiKeyOut):
    api_key: str


class NewApiKeyIn(_In):
    user: str = Field(max_length=320)
    name: str = Field(default="", max_length=256)
    scopes: list[str] | None = Field(default=None, max_length=256)
    expires_in: str | int | None = Field(
        default=None, description="a duration: seconds, or e.g. '30d', '12h'"
    )


class SessionOut(BaseModel):
    id: str
    kind: str
    subject: str
    principal_id: str
    org: str | None
    scopes: list[str]
    resources: list[str]
    method: str
    profile: str
    created_at: str
    last_used_at: str
    expires_at: str
    client_ip: str | None
    user_agent: str | None
    revoked_at: str | None
    revoke_reason: str | None


class SigningKeyOut(BaseModel):
    kid: str
    alg: str
    status: str
    created_at: str
    retired_at: str | None
    published_until: str | None


class AuditEventOut(BaseModel):
    id: int | None
    at: str
    event: str
    outcome: str
    actor: str | None
    target: str | None
    ip: str | None
    user_agent: str | None
    surface: str | None
    details: dict[str, Any]


class MinuteOut(BaseModel):
    start: str
    successes: int
    failures: int


class RefusedAddress(BaseModel):
    address: str
    failures: int


class DashboardOut(BaseModel):
    at: str
    window_minutes: int
    logins: int
    failures: int
    logins_last_minute: int
    active_sessions: int
    per_minute: list[MinuteOut]
    refused_addresses: list[RefusedAddress]


class IssuerOut(BaseModel):
    name: str
    issuer: str
    audiences: list[str]
    jwks_uri: str | None
    algorithms: list[str]
    leeway: float
    match: str
    allowed_subjects: list[str]
    auto_provision: bool
    provision_org: str | None
    provision_roles: list[str]
    client_id: str | None
    source: str


class IdentityOut(BaseModel):
    issuer: str
    subject: str


class IdentityIn(_In):
    issuer: str = Field(max_length=512, description="the issuer's name or URL")
    subject: str = Field(max_length=512)


class ResourceOut(BaseModel):
    uri: str
    name: str
    scopes: list[str]
    created_at: str


class NewResource(_In):
    uri: str = Field(max_length=512, description="an absolute URI without a fragment")
    scopes: list[str] = Field(default_factory=list, max_length=256)
    name: str | None = Field(default=None, max_length=256)


OrgPage = _page_model("OrgPage", OrgOut)
RolePage = _page_model("RolePage", RoleOut)
UserPage = _page_model("UserPage", UserOut)
ClientPage = _page_model("ClientPage", ClientOut)
ApiKeyPage = _page_model("ApiKeyPage", ApiKeyOut)
SessionPage = _page_model("SessionPage", SessionOut)
SigningKeyPage = _page_model("SigningKeyPage", SigningKeyOut)
AuditPage = _page_model("AuditPage", AuditEventOut)
IssuerPage = _page_model("IssuerPage", IssuerOut)
IdentityPage = _page_model("IdentityPage", IdentityOut)
ResourcePage = _page_model("ResourcePage", ResourceOut)


# ---------------------------------------------------------------------- rendering


def issuer_out(issuer: TrustedIssuer) -> dict[str, Any]:
    return {
        "name": issuer.name,
        "issuer": issuer.issuer,
        "audiences": list(issuer.audiences),
        "jwks_uri": issuer.jwks_uri,
        "algorithms": list(issuer.algorithms),
        "leeway": issuer.leeway,
        "match": issuer.match,
        "allowed_subjects": list(issuer.allowed_subjects),
        "auto_provision": issuer.auto_provision,
        "provision_org": issuer.provision_org,
        "provision_roles": list(issuer.provision_roles),
        "client_id": issuer.client_id,
        "source": issuer.source,
    }


def org_out(org: Org) -> dict[str, Any]:
    return {"uid": org.uid, "name": org.name, "created_at": iso(org.created_at)}


def role_out(role: Role) -> dict[str, Any]:
    return {"name": role.name, "scopes": sorted(role.scopes), "description": role.description}


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "org": user.org_uid,
        "roles": list(user.roles),
        "scopes": sorted(user.scopes),
        "disabled": user.disabled,
        "has_password": user.password_hash is not None,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def client_out(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "org": client.org_uid,
        "scopes": sorted(client.scopes),
        "metadata": dict(client.metadata),
        "disabled": client.disabled,
        "created_at": iso(client.created_at),
        "updated_at": iso(client.updated_at),
    }


def api_key_out(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "user_id": key.user_id,
        "name": key.name,
        "prefix": key.display_prefix,
        "scopes": sorted(key.scopes),
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at),
    }


def session_out(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "kind": session.principal_kind.value,
        "subject": session.subject,
        "principal_id": session.principal_id,
        "org": session.org_uid,
        "scopes": sorted(session.scopes),
        "resources": list(session.resources),
        "method": session.auth_method.value,
        "profile": session.profile,
        "created_at": iso(session.created_at),
        "last_used_at": iso(session.last_used_at),
        "expires_at": iso(session.expires_at),
        "client_ip": session.client_ip,
        "user_agent": session.user_agent,
        "revoked_at": iso(session.revoked_at),
        "revoke_reason": session.revoke_reason,
    }


def signing_key_out(key: SigningKeyRecord) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "status": key.status,
        "created_at": iso(key.created_at),
        "retired_at": iso(key.retired_at),
        "published_until": iso(key.publish_until),
    }


def audit_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "event": event.event,
        "outcome": event.outcome,
        "actor": event.actor,
        "target": event.target,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "surface": event.surface,
        "details": dict(event.details),
    }


def dashboard_out(figures: DashboardFigures) -> dict[str, Any]:
    return {
        "at": iso(figures.at),
        "window_minutes": len(figures.minutes),
        "logins": figures.logins,
        "failures": figures.failures,
        "logins_last_minute": figures.logins_last_minute,
        "active_sessions": figures.active_sessions,
        "per_minute": [
            {"start": iso(m.start), "successes": m.successes, "failures": m.failures}
            for m in figures.minutes
        ],
        "refused_addresses": [
            {"address": address, "failures": count} for address, count in figures.refused_addresses
        ],
    }


# ---------------------------------------------------------------------- query parameters


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise WireError(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def text_param(request: Request, name: str, max_length: int = 320) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length:
        raise WireError(f"'{name}' is longer than {max_length} characters")
    return value


def bool_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in {"true", "false"}:
        raise WireError(f"'{name}' must be true or false")
    return raw == "true"


def time_param(request: Request, name: str, now: float) -> float | None:
    """An ISO 8601 time (`2025-01-31T12:00:00Z`), or a duration meaning that long ago."""
    raw = text_param(request, name, 64)
    if raw is None:
        return None
    try:
        return now - parse_duration(raw)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise WireError(
            f"'{name}' must be an ISO 8601 time or a duration such as 15m, 24h, 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def next_link(path: str, params: Mapping[str, object]) -> str:
    query = {key: str(value) for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(query)}"


def offset_page(
    request: Request,
    found: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    limit: int,
    offset: int,
    filters: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """A page from up to `limit + 1` items found from `offset` (one more tells if a next
    page exists)."""
    items = [render(item) for item in found[:limit]]
    more = len(found) > limit
    params = {**(filters or {}), "limit": limit, "offset": offset + limit}
    return {"items": items, "next": next_link(request.url.path, params) if more else None}


def window(items: Sequence[Any], limit: int, offset: int) -> Sequence[Any]:
    """The `limit + 1` items from `offset` of a list the store returns whole."""
    return items[offset : offset + limit + 1]


def path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


# ---------------------------------------------------------------------- the surface

A = TypeVar("A", bound="AdminApi")
AdminHandler = Callable[[A, Request, str], Awaitable[Response]]


def admin_only(handler: AdminHandler[A]) -> Callable[[A, Request], Awaitable[Response]]:
    """Authenticate the admin, then call the handler with the actor's name; render errors."""

    @native_errors
    @functools.wraps(handler)
    async def wrapper(self: A, request: Request) -> Response:
        return await handler(self, request, await self.acting_admin(request))

    return wrapper


def ok(data: Any, status: int = 200) -> Response:
    return json_response(data, status, NO_STORE)


def no_content() -> Response:
    return Response(status_code=204, headers=NO_STORE)


class AdminApi:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.limit = gate.settings.max_body_bytes

    async def acting_admin(self, request: Request) -> str:
        token = bearer_token(request)
        if token is None:
            raise InvalidToken("a Bearer token is required")
        auth = self.gate.auth
        verified = await auth.verify_access(token, required_scopes=[ADMIN_SCOPE])
        principal, _ = await auth.principal_for(verified)
        require(principal.scopes, [ADMIN_SCOPE])
        return principal.name

    async def _json(self, request: Request) -> dict[str, Any]:
        return parse_json_object(await read_body(request, self.limit))

    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        return limit, int_param(request, "offset", 0, 0, 10**9)

    # ------------------------------------------------------------------ orgs

    @admin_only
    async def list_orgs(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_orgs(), limit, offset)
        return ok(offset_page(request, found, org_out, limit, offset))

    @admin_only
    async def create_org(self, request: Request, actor: str) -> Response:
        body = validated(NewOrg, await self._json(request))
        org = await self.gate.admin.add_org(body.uid, body.name, actor=actor)
        return ok(org_out(org), 201)

    @admin_only
    async def rename_org(self, request: Request, actor: str) -> Response:
        body = validated(OrgChanges, await self._json(request))
        org = await self.gate.admin.rename_org(request.path_params["uid"], body.name, actor=actor)
        return ok(org_out(org))

    @admin_only
    async def delete_org(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_org(request.path_params["uid"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ roles

    @admin_only
    async def list_roles(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_roles(), limit, offset)
        return ok(offset_page(request, found, role_out, limit, offset))

    @admin_only
    async def put_role(self, request: Request, actor: str) -> Response:
        body = validated(RoleIn, await self._json(request))
        role = await self.gate.admin.put_role(
            request.path_params["name"], body.scopes, body.description, actor=actor
        )
        return ok(role_out(role))

    @admin_only
    async def delete_role(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_role(request.path_params["name"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ users

    @admin_only
    async def list_users(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        org, search = text_param(request, "org"), text_param(request, "search")
        found = await self.gate.admin.list_users(
            org=org, search=search, limit=limit + 1, offset=offset
        )
        filters = {"org": org, "search": search}
        return ok(offset_page(request, found, user_out, limit, offset, filters))

    @admin_only
    async def create_user(self, request: Request, actor: str) -> Response:
        body = validated(NewUser, await self._json(request))
        user = await self.gate.admin.add_user(
            body.username,
            password=body.password,
            email=body.email,
            display_name=body.display_name,
            org=body.org,
            roles=body.roles,
            scopes=body.scopes,
            actor=actor,
        )
        return ok(user_out(user), 201)

    @admin_only
    async def get_user(self, request: Request, actor: str) -> Response:
        return ok(user_out(await self.gate.admin.get_user(request.path_params["user"])))

    @admin_only
    async def update_user(self, request: Request, actor: str) -> Response:
        body = validated(UserChanges, await self._json(request))
        user = await self.gate.admin.update_user(
            request.path_params["user"],
            email=body.email,
            display_name=body.display_name,
            org=body.org,
            roles=body.roles,
            scopes=body.scopes,
            actor=actor,
        )
        return ok(user_out(user))

    @admin_only
    async def disable_user(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.set_user_disabled(
            request.path_params["user"], True, actor=actor
        )
        return ok(user_out(user))

    @admin_only
    async def enable_user(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.set_user_disabled(
            request.path_params["user"], False, actor=actor
        )
        return ok(user_out(user))

    @admin_only
    async def set_password(self, request: Request, actor: str) -> Response:
        body = validated(PasswordIn, await self._json(request))
        await self.gate.admin.set_password(request.path_params["user"], body.password, actor=actor)
        return no_content()

    @admin_only
    async def delete_user(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_user(request.path_params["user"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ clients

    @admin_only
    async def list_clients(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        org = text_param(request, "org")
        found = window(await self.gate.admin.list_clients(org=org), limit, offset)
        return ok(offset_page(request, found, client_out, limit, offset, {"org": org}))

    @admin_only
    async def create_client(self, request: Request, actor: str) -> Response:
        body = validated(NewClientIn, await self._json(request))
        created = await self.gate.admin.add_client(
            body.name,
            org=body.org,
            scopes=body.scopes,
            metadata=body.metadata,
            client_id=body.client_id,
            actor=actor,
        )
        return ok({**client_out(created.client), "client_secret": created.client_secret}, 201)

    @admin_only
    async def get_client(self, request: Request, actor: str) -> Response:
        return ok(client_out(await self.gate.admin.get_client(request.path_params["client_id"])))

    @admin_only
    async def update_client(self, request: Request, actor: str) -> Response:
        body = validated(ClientChanges, await self._json(request))
        client = await self.gate.admin.update_client(
            request.path_params["client_id"],
            name=body.name,
            org=body.org,
            scopes=body.scopes,
            metadata=body.metadata,
            actor=actor,
        )
        return ok(client_out(client))

    @admin_only
    async def rotate_client_secret(self, request: Request, actor: str) -> Response:
        created = await self.gate.admin.rotate_client_secret(
            request.path_params["client_id"], actor=actor
        )
        return ok({**client_out(created.client), "client_secret": created.client_secret})

    @admin_only
    async def disable_client(self, request: Request, actor: str) -> Response:
        client = await self.gate.admin.set_client_disabled(
            request.path_params["client_id"], True, actor=actor
        )
        return ok(client_out(client))

    @admin_only
    async def enable_client(self, request: Request, actor: str) -> Response:
        client = await self.gate.admin.set_client_disabled(
            request.path_params["client_id"], False, actor=actor
        )
        return ok(client_out(client))

    @admin_only
    async def delete_client(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_client(request.path_params["client_id"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ API keys

    @admin_only
    async def list_api_keys(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        user = text_param(request, "user")
        found = window(await self.gate.admin.list_api_keys(user), limit, offset)
        return ok(offset_page(request, found, api_key_out, limit, offset, {"user": user}))

    @admin_only
    async def create_api_key(self, request: Request, actor: str) -> Response:
        body = validated(NewApiKeyIn, await self._json(request))
        try:
            lifetime = None if body.expires_in is None else parse_duration(body.expires_in)
        except ValueError as exc:
            raise WireError(f"'expires_in': {exc}") from None
        created = await self.gate.admin.add_api_key(
            body.user, name=body.name, scopes=body.scopes, expires_in=lifetime, actor=actor
        )
        return ok({**api_key_out(created.key), "api_key": created.api_key}, 201)

    @admin_only
    async def revoke_api_key(self, request: Request, actor: str) -> Response:
        await self.gate.admin.revoke_api_key(request.path_params["key_id"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ registered APIs

    @admin_only
    async def list_resources(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_resources(), limit, offset)
        return ok(offset_page(request, found, resource_view, limit, offset))

    @admin_only
    async def create_resource(self, request: Request, actor: str) -> Response:
        body = validated(NewResource, await self._json(request))
        resource = await self.gate.admin.add_resource(
            body.uri, scopes=body.scopes, name=body.name, actor=actor
        )
        return ok(resource_view(resource), 201)

    @admin_only
    async def delete_resource(self, request: Request, actor: str) -> Response:
        # A URI does not fit a path segment (slashes, a query of its own): it is a parameter.
        uri = text_param(request, "uri", 512)
        if uri is None:
            raise WireError("give the resource as ?uri=…")
        await self.gate.admin.delete_resource(uri, actor=actor)
        return no_content()

    # ------------------------------------------------------------------ sessions

    @admin_only
    async def list_sessions(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        user = text_param(request, "user")
        active = bool_param(request, "active", True)
        found = await self.gate.admin.list_sessions(
            user, active_only=active, limit=limit + 1, offset=offset
        )
        filters = {"user": user, "active": None if active else "false"}
        return ok(offset_page(request, found, session_out, limit, offset, filters))

    @admin_only
    async def revoke_session(self, request: Request, actor: str) -> Response:
        await self.gate.admin.revoke_session(request.path_params["session_id"], actor=actor)
        return no_content()

    # ------------------------------------------------------------------ signing keys

    @admin_only
    async def list_signing_keys(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_signing_keys(), limit, offset)
        return ok(offset_page(request, found, signing_key_out, limit, offset))

    @admin_only
    async def rotate_signing_key(self, request: Request, actor: str) -> Response:
        return ok(signing_key_out(await self.gate.admin.rotate_signing_key(actor=actor)), 201)

    # ------------------------------------------------------------------ trusted issuers

    @admin_only
    async def list_issuers(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        found = window(await self.gate.admin.list_issuers(), limit, offset)
        return ok(offset_page(request, found, issuer_out, limit, offset))

    @admin_only
    async def create_issuer(self, request: Request, actor: str) -> Response:
        config = validated(IssuerConfig, await self._json(request))
        added = await self.gate.admin.add_issuer(trusted_issuer(config), actor=actor)
        return ok(issuer_out(added), 201)

    @admin_only
    async def delete_issuer(self, request: Request, actor: str) -> Response:
        await self.gate.admin.remove_issuer(request.path_params["name"], actor=actor)
        return no_content()

    @admin_only
    async def list_identities(self, request: Request, actor: str) -> Response:
        links = await self.gate.admin.list_identities(request.path_params["user"])
        items = [{"issuer": issuer, "subject": subject} for issuer, subject in links]
        return ok({"items": items, "next": None})

    @admin_only
    async def link_identity(self, request: Request, actor: str) -> Response:
        body = validated(IdentityIn, await self._json(request))
        user = request.path_params["user"]
        issuer = await self.gate.admin.link_identity(user, body.issuer, body.subject, actor=actor)
        return ok({"issuer": issuer.issuer, "subject": body.subject}, 201)

    @admin_only
    async def unlink_identity(self, request: Request, actor: str) -> Response:
        issuer = request.query_params.get("issuer")
        subject = request.query_params.get("subject")
        if not issuer or not subject:
            raise WireError("give the identity as ?issuer=…&subject=…")
        await self.gate.admin.unlink_identity(
            request.path_params["user"], issuer, subject, actor=actor
        )
        return no_content()

    # ------------------------------------------------------------------ audit and dashboard

    @admin_only
    async def audit(self, request: Request, actor: str) -> Response:
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        before_id = int_param(request, "before_id", 0, 1, 2**62) or None
        now = self.gate.auth.clock.now()
        filters = {
            "user": text_param(request, "user"),
            "event": text_param(request, "event", 64),
            "since": text_param(request, "since", 64),
            "until": text_param(request, "until", 64),
        }
        found = await self.gate.admin.audit(
            AuditQuery(
                user=filters["user"],
                event=filters["event"],
                since=time_param(request, "since", now),
                until=time_param(request, "until", now),
                limit=limit + 1,
                before_id=before_id,
            )
        )
        items = found[:limit]
        more = len(found) > limit and items[-1].id is not None
        params = {**filters, "limit": limit, "before_id": items[-1].id if more else None}
        return ok(
            {
                "items": [audit_out(event) for event in items],
                "next": next_link(request.url.path, params) if more else None,
            }
        )

    @admin_only
    async def dashboard(self, request: Request, actor: str) -> Response:
        minutes = int_param(request, "minutes", 60, 1, 1440)
        return ok(dashboard_out(await self.gate.admin.dashboard(window_minutes=minutes)))

    # ------------------------------------------------------------------ routes

    def endpoints(self) -> list[Endpoint]:
        user = [path_param("user", "username, email or id")]
        client = [path_param("client_id", "the client's id")]
        paging = [
            query_param("limit", f"page size, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})"),
            query_param("offset", "items to skip (default 0)"),
        ]

        def ep(
            path: str,
            method: str,
            handler: Callable[[Request], Awaitable[Response]],
            summary: str,
            status: int,
            model: type[BaseModel] | None = None,
            *,
            request: type[BaseModel] | None = None,
            parameters: Sequence[dict[str, Any]] = (),
            names_one: bool = False,
        ) -> Endpoint:
            responses = {status: Doc(summary, model), **_ERRORS}
            if "{" in path or names_one:
                responses[404] = Doc("Not found", ErrorResponse)
            if method in {"POST", "PUT", "PATCH"}:
                responses[409] = Doc("Already exists", ErrorResponse)
            return Endpoint(
                path,
                method,
                handler,
                summary,
                SURFACE,
                request=request,
                responses=responses,
                bearer=True,
                parameters=parameters,
            )

        return [
            # orgs
            ep("/admin/orgs", "GET", self.list_orgs, "List organizations", 200, OrgPage,
               parameters=paging),
            ep("/admin/orgs", "POST", self.create_org, "Create an organization", 201, OrgOut,
               request=NewOrg),
            ep("/admin/orgs/{uid}", "PATCH", self.rename_org, "Rename an organization", 200,
               OrgOut, request=OrgChanges, parameters=[path_param("uid", "the org's uid")]),
            ep("/admin/orgs/{uid}", "DELETE", self.delete_org,
               "Delete an organization no user, client or issuer refers to", 204,
               parameters=[path_param("uid", "the org's uid")]),
            # roles
            ep("/admin/roles", "GET", self.list_roles, "List roles", 200, RolePage,
               parameters=paging),
            ep("/admin/roles/{name}", "PUT", self.put_role, "Create or replace a role", 200,
               RoleOut, request=RoleIn, parameters=[path_param("name", "the role")]),
            ep("/admin/roles/{name}", "DELETE", self.delete_role, "Delete a role", 204,
               parameters=[path_param("name", "the role")]),
            # users
            ep("/admin/users", "GET", self.list_users, "List users", 200, UserPage,
               parameters=[*paging, query_param("org", "only this organization"),
                           query_param("search", "part of a username or email")]),
            ep("/admin/users", "POST", self.create_user, "Create a user", 201, UserOut,
               request=NewUser),
            ep("/admin/users/{user}", "GET", self.get_user, "One user", 200, UserOut,
               parameters=user),
            ep("/admin/users/{user}", "PATCH", self.update_user, "Change a user", 200, UserOut,
               request=UserChanges, parameters=user),
            ep("/admin/users/{user}", "DELETE", self.delete_user,
               "Delete a user and their API keys; revoke their sessions", 204, parameters=user),
            ep("/admin/users/{user}/disable", "POST", self.disable_user,
               "Disable a user and revoke their sessions", 200, UserOut, parameters=user),
            ep("/admin/users/{user}/enable", "POST", self.enable_user, "Enable a user", 200,
               UserOut, parameters=user),
            ep("/admin/users/{user}/password", "PUT", self.set_password, "Set a password",
               204, request=PasswordIn, parameters=user),
            # clients
            ep("/admin/clients", "GET", self.list_clients, "List API clients", 200, ClientPage,
               parameters=[*paging, query_param("org", "only this organization")]),
            ep("/admin/clients", "POST", self.create_client,
               "Register an API client (its secret is in this response only)", 201,
               ClientWithSecret, request=NewClientIn),
            ep("/admin/clients/{client_id}", "GET", self.get_client, "One client", 200,
               ClientOut, parameters=client),
            ep("/admin/clients/{client_id}", "PATCH", self.update_client, "Change a client",
               200, ClientOut, request=ClientChanges, parameters=client),
            ep("/admin/clients/{client_id}", "DELETE", self.delete_client,
               "Delete a client and revoke its tokens", 204, parameters=client),
            ep("/admin/clients/{client_id}/rotate-secret", "POST", self.rotate_client_secret,
               "A new secret (in this response only); the old one and its tokens stop working",
               200, ClientWithSecret, parameters=client),
            ep("/admin/clients/{client_id}/disable", "POST", self.disable_client,
               "Disable a client and revoke its tokens", 200, ClientOut, parameters=client),
            ep("/admin/clients/{client_id}/enable", "POST", self.enable_client,
               "Enable a client", 200, ClientOut, parameters=client),
            # API keys
            ep("/admin/api-keys", "GET", self.list_api_keys, "List API keys (never the keys)",
               200, ApiKeyPage, parameters=[*paging, query_param("user", "only this user's")]),
            ep("/admin/api-keys", "POST", self.create_api_key,
               "Create an API key for a user (the key is in this response only)", 201,
               ApiKeyWithSecret, request=NewApiKeyIn),
            ep("/admin/api-keys/{key_id}", "DELETE", self.revoke_api_key, "Revoke an API key",
               204, parameters=[path_param("key_id", "the key's id")]),
            # registered APIs (RFC 8707 resources)
            ep("/admin/resources", "GET", self.list_resources, "List registered APIs", 200,
               ResourcePage, parameters=paging),
            ep("/admin/resources", "POST", self.create_resource,
               "Register an API: tokens asked for it carry its URI as aud", 201, ResourceOut,
               request=NewResource),
            ep("/admin/resources", "DELETE", self.delete_resource,
               "Remove a registered API: no new token is issued for it", 204,
               parameters=[query_param("uri", "the resource URI", required=True)],
               names_one=True),
            # sessions
            ep("/admin/sessions", "GET", self.list_sessions, "List sessions", 200, SessionPage,
               parameters=[*paging, query_param("user", "only this user's"),
                           query_param("active", "false to include ended sessions")]),
            ep("/admin/sessions/{session_id}", "DELETE", self.revoke_session,
               "Revoke a session: its tokens are refused at once", 204,
               parameters=[path_param("session_id", "the session's id")]),
            # signing keys
            ep("/admin/signing-keys", "GET", self.list_signing_keys, "List signing keys", 200,
               SigningKeyPage, parameters=paging),
            ep("/admin/signing-keys/rotate", "POST", self.rotate_signing_key,
               "Make a new active signing key", 201, SigningKeyOut),
            # trusted external identity providers, and users' identities at them
            ep("/admin/issuers", "GET", self.list_issuers, "List trusted identity providers",
               200, IssuerPage, parameters=paging),
            ep("/admin/issuers", "POST", self.create_issuer, "Trust an identity provider", 201,
               IssuerOut, request=IssuerConfig),
            ep("/admin/issuers/{name}", "DELETE", self.delete_issuer,
               "Stop trusting a provider (and forget identity links made through it)", 204,
               parameters=[path_param("name", "the issuer's name or URL")]),
            ep("/admin/users/{user}/identities", "GET", self.list_identities,
               "A user's identities at external providers", 200, IdentityPage, parameters=user),
            ep("/admin/users/{user}/identities", "POST", self.link_identity,
               "Let an external identity log in as this user", 201, IdentityOut,
               request=IdentityIn, parameters=user),
            ep("/admin/users/{user}/identities", "DELETE", self.unlink_identity,
               "Remove an external identity's link", 204,
               parameters=[*user, query_param("issuer", "issuer name or URL"),
                           query_param("subject", "the provider's sub")]),
            # audit log and figures
            ep("/admin/audit", "GET", self.audit, "Audit events, newest first", 200, AuditPage,
               parameters=[
                   query_param("limit", f"page size, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})"),
                   query_param("before_id", "events older than this id (the next page)"),
                   query_param("user", "actor or target"),
                   query_param("event", "an event name, or a prefix ending in '.'"),
                   query_param("since", "ISO 8601 time, or a duration ago (15m, 24h, 7d)"),
                   query_param("until", "ISO 8601 time, or a duration ago"),
               ]),
            ep("/admin/dashboard", "GET", self.dashboard,
               "Logins per minute, failures, active sessions, most refused addresses", 200,
               DashboardOut, parameters=[query_param("minutes", "window, 1-1440 (default 60)")]),
        ]  # fmt: skip


_ERRORS = {
    400: Doc("Malformed request", ErrorResponse),
    401: Doc("No valid Bearer token", ErrorResponse, headers=("WWW-Authenticate",)),
    403: Doc("The token lacks the gatepass:admin scope", ErrorResponse),
    413: Doc("Body too large", ErrorResponse),
    503: Doc("Temporarily unavailable", ErrorResponse, headers=("Retry-After",)),
}
