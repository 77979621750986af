"""AdminService: managing orgs, users, roles, clients, API keys, registered APIs, keys and
sessions.

Used by the CLI and the admin API alike. Every change is validated here (names, scopes, the
org and roles it refers to), audited with its actor, and takes effect on tokens at once:
disabling or deleting a principal revokes its sessions, rotating a client secret too.
Generated secrets are returned exactly once and stored only as digests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gatepass.core.credentials import (
    SecretDigester,
    display_prefix,
    generate_api_key,
    generate_client_id,
    generate_client_secret,
)
from gatepass.core.dashboard import DashboardFigures, dashboard_figures
from gatepass.core.errors import Conflict, InvalidRequest, NotFound
from gatepass.core.external import ExternalIdentities, TrustedIssuer
from gatepass.core.mfa.admin import MfaAdmin
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    Client,
    Org,
    PrincipalKind,
    RequestContext,
    Resource,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.oauth import DEFAULT_GRANT_TYPES, validate_grant_types
from gatepass.core.password_policy import PasswordPolicy
from gatepass.core.policies import validate_scopes
from gatepass.core.ports import AuditQuery, SessionQuery
from gatepass.core.resources import uri_problem
from gatepass.core.service import AuthService
from gatepass.core.text import clip

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,127}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._\-]{8,128}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# A lifetime's end must be a time every surface can show; no expiry is said by leaving it out.
MAX_API_KEY_LIFETIME = 36500 * 86400.0


@dataclass(frozen=True, slots=True)
class NewClient:
    client: Client
    client_secret: str


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: ApiKey
    api_key: str


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidRequest(
            f"a password must be between {MIN_PASSWORD} and {MAX_PASSWORD} characters"
        )
    return password


def _check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidRequest(
            f"invalid {kind} name {clip(name)!r}: use 1-128 letters, digits and . _ @ + -"
        )
    return name


class AdminService:
    def __init__(
        self,
        auth: AuthService,
        *,
        passwords: PasswordPolicy | None = None,
    ) -> None:
        self.auth = auth
        self.storage = auth.storage
        self.clock = auth.clock
        self.digester: SecretDigester = auth.digester
        # Every new password passes the policy (issue 18), whichever surface sets it.
        self.passwords = passwords or PasswordPolicy()
        self.mfa = MfaAdmin(auth.mfa, self.get_user) if auth.mfa is not None else None

    # ------------------------------------------------------------------ orgs and roles

    async def add_org(self, uid: str, name: str | None, *, actor: str) -> Org:
        org = Org(
            uid=_check_name("org", uid), name=(name or uid)[:256], created_at=self.clock.now()
        )
        if await self.storage.get_org(uid):
            raise Conflict(f"org {clip(uid)} already exists")
        await self.storage.add_org(org)
        await self._audit("admin.org.create", actor, uid)
        return org

    async def list_orgs(self) -> list[Org]:
        return await self.storage.list_orgs()

    async def get_org(self, uid: str) -> Org:
        org = await self.storage.get_org(uid)
        if org is None:
            raise NotFound(f"no org {clip(uid)}")
        return org

    async def rename_org(self, uid: str, name: str, *, actor: str) -> Org:
        """A new display name; the uid is what tokens and records refer to, so it stays."""
        org = replace(await self.get_org(uid), name=(name or uid)[:256])
        if not await self.storage.rename_org(uid, org.name):
            raise NotFound(f"no org {clip(uid)}")
        await self._audit("admin.org.update", actor, uid, {"name": org.name})
        return org

    async def delete_org(self, uid: str, *, actor: str) -> None:
        """Delete an org nothing refers to; one with users, clients or a provisioning issuer
        is refused (the database refuses the first two as well), never emptied silently."""
        await self.get_org(uid)
        users = await self.storage.list_users(org_uid=uid, limit=1)
        clients = await self.storage.list_clients(org_uid=uid)
        issuers = await self._external().issuers() if self.auth.external is not None else []
        holders = [
            *(["users"] if users else []),
            *([f"{len(clients)} client(s)"] if clients else []),
            *(f"issuer {i.name} (provisions into it)" for i in issuers if i.provision_org == uid),
        ]
        if holders:
            raise Conflict(
                f"org {uid} is still used by {', '.join(holders)}: move or delete them first"
            )
        if not await self.storage.delete_org(uid):
            raise NotFound(f"no org {clip(uid)}")
        await self._audit("admin.org.delete", actor, uid)

    async def put_role(
        self, name: str, scopes: Sequence[str], description: str = "", *, actor: str
    ) -> Role:
        role = Role(
            name=_check_name("role", name),
            scopes=validate_scopes(scopes),
            description=description[:1024],
        )
        await self.storage.put_role(role)
        self.auth.forget_role_scopes()
        await self._audit("admin.role.put", actor, name, {"scopes": sorted(role.scopes)})
        return role

    async def list_roles(self) -> list[Role]:
        return await self.storage.list_roles()

    async def delete_role(self, name: str, *, actor: str) -> None:
        if not await self.storage.delete_role(name):
            raise NotFound(f"no role {clip(name)}")
        self.auth.forget_role_scopes()
        await self._audit("admin.role.delete", actor, name)

    # ------------------------------------------------------------------ users

    async def add_user(
        self,
        username: str,
        *,
        password: str | None,
        email: str | None = None,
        display_name: str | None = None,
        org: str | None = None,
        roles: Sequence[str] = (),
        scopes: Sequence[str] = (),
        actor: str,
    ) -> User:
        _check_name("user", username)
        email = self._check_email(email)
        await self._check_org(org)
        await self._check_roles(roles)
        if await self.storage.find_user(username):
            raise Conflict(f"user {clip(username)} already exists")
        if email and await self.storage.find_user(email):
            raise Conflict(f"a user with email {clip(email)} already exists")
        password_hash = (
            await self.auth.hashing.hash(await self._new_password(password, username, email))
            if password
            else None
        )
        now = self.clock.now()
        user = User(
            id=str(uuid.uuid4()),
            username=username,
            email=email,
            display_name=(display_name or None) and display_name[:256],
            org_uid=org,
            roles=tuple(dict.fromkeys(roles)),
            scopes=validate_scopes(scopes),
            disabled=False,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        await self.storage.add_user(user)
        await self._audit(
            "admin.user.create",
            actor,
            username,
            {"org": org, "roles": list(user.roles), "scopes": sorted(user.scopes)},
        )
        return user

    async def get_user(self, name_or_id: str) -> User:
        user = await self.storage.find_user(name_or_id) or await self.storage.get_user(name_or_id)
        if user is None:
            raise NotFound(f"no user {clip(name_or_id)}")
        return user

    async def list_users(
        self,
        *,
        org: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[User]:
        return await self.storage.list_users(org_uid=org, search=search, limit=limit, offset=offset)

    async def update_user(
        self,
        name_or_id: str,
        *,
        email: str | None = None,
        display_name: str | None = None,
        org: str | None = None,
        roles: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        actor: str,
    ) -> User:
        user = await self.get_user(name_or_id)
        changes: dict[str, Any] = {}
        if email is not None:
            changes["email"] = self._check_email(email) if email else None
        if display_name is not None:
            changes["display_name"] = display_name[:256] or None
        if org is not None:
            await self._check_org(org or None)
            changes["org_uid"] = org or None
        if roles is not None:
            await self._check_roles(roles)
            changes["roles"] = tuple(dict.fromkeys(roles))
        if scopes is not None:
            changes["scopes"] = validate_scopes(scopes)
        updated = user.evolve(**changes, updated_at=self.clock.now())
        await self.storage.update_user(updated)
        self.auth.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit(
            "admin.user.update",
            actor,
            user.username,
            {key: _jsonable(value) for key, value in changes.items()},
        )
        return updated

    async def set_user_disabled(self, name_or_id: str, disabled: bool, *, actor: str) -> User:
        user, _revoked = await self.switch_user(name_or_id, disabled, actor=actor)
        return user

    async def switch_user(self, name_or_id: str, disabled: bool, *, actor: str) -> tuple[User, int]:
        """Disable (revoking every session at once) or enable a user: the user, and how many
        sessions were revoked."""
        user = await self.get_user(name_or_id)
        updated = user.evolve(disabled=disabled, updated_at=self.clock.now())
        await self.storage.update_user(updated)
        revoked = 0
        if disabled:
            revoked = await self.auth.revoke_principal(PrincipalKind.USER, user.id, "user_disabled")
        else:
            self.auth.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit(
            "admin.user.disable" if disabled else "admin.user.enable", actor, user.username
        )
        return updated, revoked

    async def set_password(self, name_or_id: str, password: str, *, actor: str) -> None:
        user = await self.get_user(name_or_id)
        checked = await self._new_password(password, user.username, user.email)
        new_hash = await self.auth.hashing.hash(checked)
        await self.storage.set_password_hash(user.id, new_hash, self.clock.now())
        self.auth.invalidate_cached(PrincipalKind.USER, user.id)
        await self._audit("admin.user.password", actor, user.username)

    async def delete_user(self, name_or_id: str, *, actor: str) -> int:
        """Delete a user and their API keys; the number of sessions revoked."""
        user = await self.get_user(name_or_id)
        revoked = await self.auth.revoke_principal(PrincipalKind.USER, user.id, "user_deleted")
        await self.storage.delete_user(user.id)
        await self._audit("admin.user.delete", actor, user.username)
        return revoked

    # ------------------------------------------------------------------ clients

    async def add_client(
        self,
        name: str,
        *,
        org: str | None = None,
        scopes: Sequence[str] = (),
        metadata: Mapping[str, str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        grant_types: Sequence[str] | None = None,
        actor: str,
    ) -> NewClient:
        if not name or len(name) > 256:
            raise InvalidRequest("a client name must be 1-256 characters")
        if client_id is not None and not _CLIENT_ID.match(client_id):
            raise InvalidRequest("a client id must be 8-128 letters, digits, '.', '_' or '-'")
        if client_secret is not None and len(client_secret) < 16:
            raise InvalidRequest("an imported client secret must be at least 16 characters")
        await self._check_org(org)
        client_id = client_id or generate_client_id()
        if await self.storage.get_client(client_id):
            raise Conflict(f"client {clip(client_id)} already exists")
        secret = client_secret or generate_client_secret()
        now = self.clock.now()
        client = Client(
            client_id=client_id,
            name=name,
            org_uid=org,
            scopes=validate_scopes(scopes),
            metadata=_check_metadata(metadata or {}),
            secret_digest=self.digester.digest(secret),
            disabled=False,
            created_at=now,
            updated_at=now,
            grant_types=(
                DEFAULT_GRANT_TYPES if grant_types is None else validate_grant_types(grant_types)
            ),
        )
        await self.storage.add_client(client)
        await self._audit(
            "admin.client.create",
            actor,
            client_id,
            {
                "name": name,
                "org": org,
                "scopes": sorted(client.scopes),
                "grant_types": sorted(client.grant_types),
            },
        )
        return NewClient(client, secret)

    async def get_client(self, client_id: str) -> Client:
        client = await self.storage.get_client(client_id)
        if client is None:
            raise NotFound(f"no client {clip(client_id)}")
        return client

    async def list_clients(self, *, org: str | None = None) -> list[Client]:
        return await self.storage.list_clients(org_uid=org)

    async def update_client(
        self,
        client_id: str,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        org: str | None = None,
        grant_types: Sequence[str] | None = None,
        actor: str,
    ) -> Client:
        client = await self.get_client(client_id)
        changes: dict[str, Any] = {}
        if grant_types is not None:
            changes["grant_types"] = validate_grant_types(grant_types)
        if name:
            changes["name"] = name[:256]
        if scopes is not None:
            changes["scopes"] = validate_scopes(scopes)
        if metadata is not None:
            changes["metadata"] = _check_metadata(metadata)
        if org is not None:
            await self._check_org(org or None)
            changes["org_uid"] = org or None
        updated = client.evolve(**changes, updated_at=self.clock.now())
        await self.storage.update_client(updated)
        self.auth.invalidate_cached(PrincipalKind.CLIENT, client_id)
        await self._audit(
            "admin.client.update",
            actor,
            client_id,
            {key: _jsonable(value) for key, value in changes.items()},
        )
        return updated

    async def rotate_client_secret(self, client_id: str, *, actor: str) -> NewClient:
        client = await self.get_client(client_id)
        secret = generate_client_secret()
        updated = client.evolve(
            secret_digest=self.digester.digest(secret), updated_at=self.clock.now()
        )
        await self.storage.update_client(updated)
        await self.auth.revoke_principal(PrincipalKind.CLIENT, client_id, "secret_rotated")
        await self._audit("admin.client.rotate_secret", actor, client_id)
        return NewClient(updated, secret)

    async def set_client_disabled(self, client_id: str, disabled: bool, *, actor: str) -> Client:
        client, _revoked = await self.switch_client(client_id, disabled, actor=actor)
        return client

    async def switch_client(
        self, client_id: str, disabled: bool, *, actor: str
    ) -> tuple[Client, int]:
        """Disable (revoking its tokens at once) or enable a client: the client, and how many
        sessions were revoked (its stateless tokens are refused as well)."""
        client = await self.get_client(client_id)
        updated = client.evolve(disabled=disabled, updated_at=self.clock.now())
        await self.storage.update_client(updated)
        revoked = 0
        if disabled:
            revoked = await self.auth.revoke_principal(
                PrincipalKind.CLIENT, client_id, "client_disabled"
            )
        else:
            self.auth.invalidate_cached(PrincipalKind.CLIENT, client_id)
        await self._audit(
            "admin.client.disable" if disabled else "admin.client.enable", actor, client_id
        )
        return updated, revoked

    async def delete_client(self, client_id: str, *, actor: str) -> int:
        """Delete a client; the number of its sessions revoked."""
        await self.get_client(client_id)
        revoked = await self.auth.revoke_principal(
            PrincipalKind.CLIENT, client_id, "client_deleted"
        )
        await self.storage.delete_client(client_id)
        await self._audit("admin.client.delete", actor, client_id)
        return revoked

    # ------------------------------------------------------------------ API keys

    async def add_api_key(
        self,
        user_name_or_id: str,
        *,
        name: str = "",
        scopes: Sequence[str] | None = None,
        expires_in: float | None = None,
        actor: str,
    ) -> NewApiKey:
        user = await self.get_user(user_name_or_id)
        held = user.scopes | await self.auth.scopes_of_roles(user.roles)
        wanted = validate_scopes(scopes) if scopes else held
        if not wanted <= held:
            extra = " ".join(sorted(wanted - held))
            raise InvalidRequest(f"an API key cannot hold scopes its user lacks: {clip(extra)}")
        if expires_in is not None and not 0 < expires_in <= MAX_API_KEY_LIFETIME:
            raise InvalidRequest(
                "an API key's lifetime must be positive and at most 36500 days "
                "(leave it out for a key that does not expire)"
            )
        secret = generate_api_key()
        now = self.clock.now()
        key = ApiKey(
            id=uuid.uuid4().hex[:16],
            user_id=user.id,
            name=(name or "api key")[:256],
            scopes=wanted,
            digest=self.digester.digest(secret),
            display_prefix=display_prefix(secret),
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
        await self.storage.add_api_key(key)
        await self._audit(
            "admin.apikey.create", actor, user.username, {"key": key.id, "scopes": sorted(wanted)}
        )
        return NewApiKey(key, secret)

    async def list_api_keys(self, user_name_or_id: str | None = None) -> list[ApiKey]:
        user_id = (await self.get_user(user_name_or_id)).id if user_name_or_id else None
        return await self.storage.list_api_keys(user_id)

    async def revoke_api_key(self, key_id: str, *, actor: str) -> None:
        if not await self.storage.revoke_api_key(key_id, self.clock.now()):
            raise NotFound(f"no active API key {clip(key_id)}")
        await self._audit("admin.apikey.revoke", actor, key_id)

    # ------------------------------------------------------------------ registered APIs

    async def add_resource(
        self, uri: str, *, scopes: Sequence[str] = (), name: str | None = None, actor: str
    ) -> Resource:
        """Register an API (RFC 8707 resource): tokens asked for it carry `aud` = `uri` and at
        most `scopes`, which can never include a privileged scope."""
        problem = uri_problem(uri)
        if problem is not None:
            raise InvalidRequest(problem)
        offered = validate_scopes(scopes)
        privileged = sorted(offered & self.auth.scopes.privileged)
        if privileged:
            raise InvalidRequest(
                f"{' '.join(privileged)} is privileged: it is never granted for an API"
            )
        if name is not None and len(name) > 256:
            raise InvalidRequest("a resource name is at most 256 characters")
        if await self.storage.get_resources([uri]):
            raise Conflict(f"resource {clip(uri)} already exists")
        resource = Resource(uri=uri, name=name or uri, scopes=offered, created_at=self.clock.now())
        await self.storage.add_resource(resource)
        await self._audit(
            "admin.resource.create", actor, uri, {"name": resource.name, "scopes": sorted(offered)}
        )
        return resource

    async def list_resources(self) -> list[Resource]:
        return await self.storage.list_resources()

    async def delete_resource(self, uri: str, *, actor: str) -> None:
        """New tokens for it are refused at once (`invalid_target`); tokens already issued
        stay valid until they expire, as every stateless token does."""
        if not await self.storage.delete_resource(uri):
            raise NotFound(f"no resource {clip(uri)}")
        await self._audit("admin.resource.delete", actor, uri)

    # ------------------------------------------------------------------ external identities

    async def list_issuers(self) -> list[TrustedIssuer]:
        return await self._external().issuers()

    async def add_issuer(self, issuer: TrustedIssuer, *, actor: str) -> TrustedIssuer:
        _check_name("issuer", issuer.name)
        known = await self._external().issuers()
        if any(i.name == issuer.name or i.issuer == issuer.issuer for i in known):
            raise Conflict(f"issuer {clip(issuer.name)} ({clip(issuer.issuer)}) is already trusted")
        if issuer.auto_provision:
            await self._check_org(issuer.provision_org)
            await self._check_roles(issuer.provision_roles)
        stored = replace(issuer, source="database")
        await self.storage.add_issuer(stored, self.clock.now())
        self._external().forget()
        await self._audit(
            "admin.issuer.create",
            actor,
            issuer.name,
            {
                "issuer": issuer.issuer,
                "audiences": list(issuer.audiences),
                "match": issuer.match,
                "auto_provision": issuer.auto_provision,
            },
        )
        return stored

    async def remove_issuer(self, name_or_issuer: str, *, actor: str) -> None:
        issuer = await self._find_issuer(name_or_issuer)
        if issuer.source != "database":
            raise InvalidRequest(f"issuer {issuer.name} is defined in the config file")
        await self.storage.delete_issuer(issuer.name)
        self._external().forget()
        await self._audit("admin.issuer.delete", actor, issuer.name, {"issuer": issuer.issuer})

    async def link_identity(
        self, user_name_or_id: str, issuer_name: str, subject: str, *, actor: str
    ) -> TrustedIssuer:
        user = await self.get_user(user_name_or_id)
        issuer = await self._find_issuer(issuer_name)
        if not subject or len(subject) > 512:
            raise InvalidRequest("an external subject is 1-512 characters")
        await self.storage.link_identity(issuer.issuer, subject, user.id, self.clock.now())
        await self._audit(
            "admin.identity.link",
            actor,
            user.username,
            {"issuer": issuer.issuer, "external_subject": subject},
        )
        return issuer

    async def unlink_identity(
        self, user_name_or_id: str, issuer_name: str, subject: str, *, actor: str
    ) -> None:
        user = await self.get_user(user_name_or_id)
        issuer = await self._find_issuer(issuer_name)
        if await self.storage.find_linked_user(issuer.issuer, subject) != user.id:
            raise NotFound(f"{user.username} is not linked to {clip(subject)} at {issuer.name}")
        await self.storage.unlink_identity(issuer.issuer, subject)
        await self._audit(
            "admin.identity.unlink",
            actor,
            user.username,
            {"issuer": issuer.issuer, "external_subject": subject},
        )

    async def list_identities(self, user_name_or_id: str) -> list[tuple[str, str]]:
        return await self.storage.list_identities((await self.get_user(user_name_or_id)).id)

    async def _find_issuer(self, name_or_issuer: str) -> TrustedIssuer:
        for issuer in await self._external().issuers():
            if name_or_issuer in {issuer.name, issuer.issuer}:
                return issuer
        raise NotFound(f"no trusted issuer {clip(name_or_issuer)}")

    def _external(self) -> ExternalIdentities:
        if self.auth.external is None:
            raise InvalidRequest("external identities are not available in this deployment")
        return self.auth.external

    # ------------------------------------------------------------------ keys and sessions

    async def list_signing_keys(self) -> list[SigningKeyRecord]:
        return await self.auth.keys.records()

    async def rotate_signing_key(self, *, actor: str) -> SigningKeyRecord:
        record = await self.auth.keys.rotate()
        self.auth.codec.keyring = self.auth.keys.ring
        await self._audit("key.rotate", actor, record.kid, {"alg": record.alg})
        return record

    async def list_sessions(
        self,
        user_name_or_id: str | None = None,
        *,
        active_only: bool = True,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Session]:
        principal_id = (await self.get_user(user_name_or_id)).id if user_name_or_id else None
        return await self.storage.list_sessions(
            SessionQuery(
                principal_id=principal_id,
                active_at=self.clock.now() if active_only else None,
                limit=limit,
                offset=offset,
            )
        )

    async def revoke_session(self, session_id: str, *, actor: str) -> None:
        if not await self.auth.revoke_session(
            session_id, "admin", RequestContext("admin"), actor=actor
        ):
            raise NotFound(f"no active session {clip(session_id)}")

    async def audit(self, query: AuditQuery) -> list[AuditEvent]:
        return await self.storage.audit.query(query)

    async def dashboard(self, *, window_minutes: int = 60, top: int = 5) -> DashboardFigures:
        """Logins per minute, failures, active sessions and the most refused addresses."""
        return await dashboard_figures(
            self.storage, self.clock.now(), window_minutes=window_minutes, top=top
        )

    # ------------------------------------------------------------------ helpers

    async def _check_org(self, org: str | None) -> None:
        if org and await self.storage.get_org(org) is None:
            raise NotFound(f"no org {clip(org)}")

    async def _check_roles(self, roles: Sequence[str]) -> None:
        known = {role.name for role in await self.storage.get_roles(list(roles))}
        missing = sorted(set(roles) - known)
        if missing:
            raise NotFound(f"no role(s) {clip(', '.join(missing))}")

    def _check_email(self, email: str | None) -> str | None:
        if email and not _EMAIL.match(email):
            raise InvalidRequest(f"invalid email address {clip(email)!r}")
        return email or None

    async def _new_password(self, password: str, *context: str | None) -> str:
        return await self.passwords.check(check_password(password), context)

    async def _audit(
        self, event: str, actor: str, target: str, details: Mapping[str, Any] | None = None
    ) -> None:
        await self.storage.audit.record(
            AuditEvent(
                at=self.clock.now(),
                event=event,
                outcome="success",
                actor=actor,
                target=target,
                surface="admin",
                details=dict(details or {}),
            )
        )


def _check_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    if len(metadata) > 32:
        raise InvalidRequest("a client has at most 32 metadata entries")
    checked = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidRequest("client metadata keys and values must be strings")
        if not 1 <= len(key) <= 64 or len(value) > 2048:
            raise InvalidRequest("metadata keys are 1-64 characters, values at most 2048")
        checked[key] = value
    return checked


def _jsonable(value: Any) -> Any:
    if isinstance(value, frozenset | tuple | set):
        return sorted(value)
    return value
