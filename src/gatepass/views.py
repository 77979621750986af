"""Entities as JSON, one copy for the admin API, the console and the CLI.

Each entity has a renderer (`user_view`, …) and the pydantic model that describes the same
document in /openapi.json (`UserOut`, …). The models are used for the description only; the
renderers build the documents. `tests/test_views.py` enumerates every renderer here and checks
that it, its model, the admin API and `gatepass … --json` name the same members.

Times are ISO 8601 in UTC with a `Z`, to the second, and `null` when there is none. A secret
(a client secret, an API key) is never part of a view: the one response that reveals it adds
it beside the view.

This module imports the core's models and pydantic only: no web framework, no CLI library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from gatepass.core.dashboard import DashboardFigures
from gatepass.core.external import TrustedIssuer
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    Client,
    Org,
    Resource,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.oidc.clients import ConsentView


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- orgs and roles


class OrgOut(BaseModel):
    uid: str
    name: str
    created_at: str


def org_view(org: Org) -> dict[str, Any]:
    return {"uid": org.uid, "name": org.name, "created_at": iso(org.created_at)}


class RoleOut(BaseModel):
    name: str
    scopes: list[str]
    description: str


def role_view(role: Role) -> dict[str, Any]:
    return {"name": role.name, "scopes": sorted(role.scopes), "description": role.description}


# ---------------------------------------------------------------------- principals


class UserOut(BaseModel):
    id: str
    username: str
    email: str | None
    email_verified: bool
    display_name: str | None
    org: str | None
    roles: list[str]
    scopes: list[str]
    disabled: bool
    has_password: bool
    created_at: str
    updated_at: str


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "display_name": user.display_name,
        "org": user.org_uid,
        "roles": list(user.roles),
        "scopes": sorted(user.scopes),
        "disabled": user.disabled,
        "has_password": user.password_hash is not None,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


class ClientOut(BaseModel):
    client_id: str
    name: str
    org: str | None
    scopes: list[str]
    metadata: dict[str, str]
    grant_types: list[str]
    disabled: bool
    created_at: str
    updated_at: str
    # Browser sign-in (OpenID Connect, issue 17); empty lists and false for machine clients.
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    web_origins: list[str]
    public: bool
    first_party: bool
    id_token_signed_response_alg: str


def client_view(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "org": client.org_uid,
        "scopes": sorted(client.scopes),
        "metadata": dict(client.metadata),
        "grant_types": sorted(client.grant_types),
        "disabled": client.disabled,
        "created_at": iso(client.created_at),
        "updated_at": iso(client.updated_at),
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "web_origins": list(client.web_origins),
        "public": client.public,
        "first_party": client.first_party,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
    }


class ConsentOut(BaseModel):
    user_id: str
    user: str | None
    client_id: str
    client_name: str | None
    scopes: list[str]
    granted_at: str


def consent_view(view: ConsentView) -> dict[str, Any]:
    """What a user allowed a third-party client (issue 17), with the names a person reads."""
    return {
        "user_id": view.consent.user_id,
        "user": view.username,
        "client_id": view.consent.client_id,
        "client_name": view.client_name,
        "scopes": sorted(view.consent.scopes),
        "granted_at": iso(view.consent.granted_at),
    }


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


def api_key_view(key: ApiKey) -> dict[str, Any]:
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


# ---------------------------------------------------------------------- sessions and keys


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


def session_view(session: Session) -> dict[str, Any]:
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


class SigningKeyOut(BaseModel):
    kid: str
    alg: str
    status: str
    created_at: str
    retired_at: str | None
    published_until: str | None


def signing_key_view(key: SigningKeyRecord) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "status": key.status,
        "created_at": iso(key.created_at),
        "retired_at": iso(key.retired_at),
        "published_until": iso(key.publish_until),
    }


# ---------------------------------------------------------------------- audit and figures


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


def audit_view(event: AuditEvent) -> dict[str, Any]:
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


def dashboard_view(figures: DashboardFigures) -> dict[str, Any]:
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


# ---------------------------------------------------------------------- issuers and APIs


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


def issuer_view(issuer: TrustedIssuer) -> dict[str, Any]:
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


class IdentityOut(BaseModel):
    issuer: str
    subject: str


def identity_view(issuer: str, subject: str) -> dict[str, Any]:
    return {"issuer": issuer, "subject": subject}


class ResourceOut(BaseModel):
    uri: str
    name: str
    scopes: list[str]
    created_at: str


def resource_view(resource: Resource) -> dict[str, Any]:
    return {
        "uri": resource.uri,
        "name": resource.name,
        "scopes": sorted(resource.scopes),
        "created_at": iso(resource.created_at),
    }


# The renderer of each entity and the model that describes it (the parity test walks this).
VIEWS: dict[str, tuple[Any, type[BaseModel]]] = {
    "org": (org_view, OrgOut),
    "role": (role_view, RoleOut),
    "user": (user_view, UserOut),
    "client": (client_view, ClientOut),
    "api_key": (api_key_view, ApiKeyOut),
    "session": (session_view, SessionOut),
    "signing_key": (signing_key_view, SigningKeyOut),
    "audit_event": (audit_view, AuditEventOut),
    "dashboard": (dashboard_view, DashboardOut),
    "issuer": (issuer_view, IssuerOut),
    "identity": (identity_view, IdentityOut),
    "resource": (resource_view, ResourceOut),
}
