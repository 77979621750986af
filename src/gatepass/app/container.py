"""The composition root: from Settings to a ready AuthService, AdminService and OAuthService.

Both the HTTP app and the CLI open a Container. It checks, with one clear message each, that the
database is migrated, that the master key is present and is the one the database was created
with, and that a signing key exists — so a copied database without its master key refuses to
start instead of failing on the first request.

Over 500 lines because it is the one place where adapters meet the core: every service's
wiring is here on purpose, so that no other module builds one (`app/memory.py` reuses
`wire_container` for the memory deployment).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic

from typing_extensions import TypeVar

from gatepass import __version__
from gatepass.adapters.http_fetch import HttpJsonFetcher
from gatepass.adapters.jwks import IssuerJwks
from gatepass.adapters.observed import (
    ObservedAudit,
    ObservedDenylist,
    ObservedLimiter,
    PoolMetrics,
)
from gatepass.adapters.pwned import PwnedPasswordsApi
from gatepass.adapters.sql.engine import DatabaseUnusable
from gatepass.adapters.sql.migrate import current_revision, head_revision, migrate
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.adapters.throttle import ThrottlePolicy
from gatepass.app.backends import SharedState, open_shared_state
from gatepass.app.oidc import oidc_config
from gatepass.app.profiles import OAUTH_PROFILES, build_profiles
from gatepass.config import IssuerConfig, Settings, issuer_domain
from gatepass.core.account.background import Background
from gatepass.core.account.passkeys import PasskeyService, relying_party
from gatepass.core.account.service import AccountConfig, AccountService
from gatepass.core.admin import AdminService
from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock, SystemClock
from gatepass.core.config import CoreConfig
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import StorageUnavailable
from gatepass.core.external import ExternalIdentities, ExternalVerifier, TrustedIssuer
from gatepass.core.housekeeping import PurgeReport, purge_expired
from gatepass.core.issuance import Issuer
from gatepass.core.keymanager import KeyManager
from gatepass.core.keys import MasterKey, MasterKeyError
from gatepass.core.login import Logins
from gatepass.core.mfa.factors import METHOD_WEBAUTHN
from gatepass.core.mfa.service import MfaConfig, SecondFactors
from gatepass.core.models import ServerInfo
from gatepass.core.oauth import GrantServices, OAuthService
from gatepass.core.oauth.clients import ClientAuthenticator, VerifiedSecrets
from gatepass.core.oauth.introspection import Introspection
from gatepass.core.oauth.revocation import Revocation
from gatepass.core.oidc.service import OidcConfig, OidcService
from gatepass.core.password_policy import PasswordPolicy
from gatepass.core.passwords import Argon2Profile, HashingPool, PasswordHasher
from gatepass.core.ports import AccountStore, Denylist, LoginLimiter, Mailer, Storage
from gatepass.core.principals import Principals
from gatepass.core.profiles import TokenProfile
from gatepass.core.scopes import ScopePolicy
from gatepass.core.service import AuthService
from gatepass.core.sessions import Sessions
from gatepass.core.tokens import TokenCodec
from gatepass.core.verification import TokenVerifier
from gatepass.observability.metrics import PURGED

MASTER_KEY_CHECK = "master_key_check"
INSTANCE_ID = "instance_id"


class SetupError(Exception):
    """The deployment cannot start; the message says what to do."""


# The storage a container holds: the SQL one of a deployment (the default, so that `Container`
# means a deployment's), or the memory one of `open_memory_container` (tests of the core).
S = TypeVar("S", bound=Storage, default=SqlStorage)


@dataclass
class Container(Generic[S]):
    settings: Settings
    storage: S
    denylist: Denylist
    limiter: LoginLimiter
    hashing: HashingPool
    keys: KeyManager
    auth: AuthService
    admin: AdminService
    oauth: OAuthService
    oidc: OidcService
    account: AccountService
    passkeys: PasskeyService
    clock: Clock
    info: ServerInfo
    profiles: dict[str, TokenProfile] = field(default_factory=dict)
    shared: SharedState | None = None

    fetcher: HttpJsonFetcher | None = None

    async def purge(self) -> PurgeReport:
        """One bounded housekeeping run (see core/housekeeping.py)."""
        settings = self.settings
        now = self.clock.now()
        retention = settings.audit_retention
        report = await purge_expired(
            self.storage,
            self.denylist,
            now,
            batch=settings.purge_batch,
            max_rows=settings.purge_max_rows,
            audit_before=now - retention if retention > 0 else None,
            known_addresses=self.shared.known_addresses if self.shared is not None else None,
        )
        for table, count in (
            ("sessions", report.sessions),
            ("denylist", report.denylist),
            ("known_addresses", report.known_addresses),
            ("audit", report.audit),
        ):
            if count:
                PURGED.labels(table).inc(count)
        # Pending MFA logins outlive their 5 minutes only as dead rows (issue 18).
        challenges = await self.storage.purge_mfa_challenges(now, settings.purge_batch)
        if challenges:
            PURGED.labels("mfa_challenges").inc(challenges)
        # Expired reset/invitation/verification links and WebAuthn ceremonies (issue 18).
        links = await self.storage.purge_account_tokens(now, settings.purge_batch)
        if links:
            PURGED.labels("account_tokens").inc(links)
        return report

    async def close(self) -> None:
        await self.account.background.drain()  # mail a request already promised
        self.hashing.close()
        if self.fetcher is not None:
            await self.fetcher.close()
        if self.shared is not None:
            await self.shared.close()
        await self.storage.close()


def argon2_profile(settings: Settings) -> Argon2Profile:
    return Argon2Profile(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )


def read_master_key(settings: Settings, *, create: bool) -> MasterKey:
    if settings.master_key:
        return MasterKey.from_text(settings.master_key)
    path = settings.master_key_file
    if path.exists():
        try:
            return MasterKey.from_text(path.read_text())
        except OSError as exc:
            raise SetupError(f"cannot read {path}: {exc.strerror}") from None
        except MasterKeyError as exc:
            raise SetupError(f"{path} does not hold a master key ({exc}): restore it") from None
    if not create:
        raise SetupError(
            f"no master key: set GATEPASS_MASTER_KEY or restore {path} "
            "(the key this database was initialised with)"
        )
    key = MasterKey.generate()
    try:
        _write_secret_file(path, key.to_text() + "\n")
    except OSError as exc:
        raise SetupError(f"cannot write {path}: {exc.strerror} — fix GATEPASS_HOME") from None
    return key


def _write_secret_file(path: Path, text: str) -> None:
    make_home(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def make_home(home: Path) -> None:
    """Create the data directory (owner only), or say in one line why it cannot be."""
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise SetupError(f"{home} exists and is not a directory — fix GATEPASS_HOME") from None
    except OSError as exc:
        raise SetupError(f"cannot create {home}: {exc.strerror} — fix GATEPASS_HOME") from None


async def open_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    initialize: bool = False,
    buffered_audit: bool = True,
    denylist: Denylist | None = None,
    limiter: LoginLimiter | None = None,
) -> Container:
    clock = clock or SystemClock()
    if settings.database_url is None:
        if initialize:
            make_home(settings.home)
        elif not (settings.home / "gatepass.db").exists():
            raise SetupError(
                f"no database in {settings.home}: run `gatepass init` (or set GATEPASS_HOME)"
            )
    try:
        storage = await open_storage(
            settings.resolved_database_url,
            buffered_audit=buffered_audit,
            schema=settings.database_schema,
            pool_size=settings.database_pool_size,
        )
    except DatabaseUnusable as exc:
        raise SetupError(str(exc)) from None
    try:
        return await _assemble(settings, storage, clock, initialize, denylist, limiter)
    except StorageUnavailable:
        await storage.close()
        raise SetupError("cannot reach the database; check GATEPASS_DATABASE_URL") from None
    except BaseException:
        await storage.close()
        raise


async def _assemble(
    settings: Settings,
    storage: SqlStorage,
    clock: Clock,
    initialize: bool,
    denylist: Denylist | None,
    limiter: LoginLimiter | None,
) -> Container:
    if initialize:
        await migrate(storage.engine)
    elif await current_revision(storage.engine) != head_revision():
        raise SetupError(
            "the database is not initialised or not migrated: run `gatepass init` "
            "(or `gatepass migrate` after an upgrade)"
        )

    async def shared_state() -> SharedState:
        return await open_shared_state(settings, storage, clock, throttle_policy(settings))

    master = read_master_key(settings, create=initialize)
    return await wire_container(
        settings, storage, clock, master, initialize, shared_state, denylist, limiter
    )


async def wire_container(
    settings: Settings,
    storage: S,
    clock: Clock,
    master: MasterKey,
    initialize: bool,
    shared_state: Callable[[], Awaitable[SharedState]],
    denylist: Denylist | None,
    limiter: LoginLimiter | None,
) -> Container[S]:
    """Everything but the storage, over the storage given (`open_container` for the SQL
    storage, `gatepass.app.memory` for the memory one)."""
    stored_check = await storage.get_meta(MASTER_KEY_CHECK)
    if stored_check is None:
        if not initialize:
            raise SetupError("the database is not initialised: run `gatepass init`")
        await storage.set_meta(MASTER_KEY_CHECK, master.check_value())
    elif stored_check != master.check_value():
        raise SetupError(
            "the master key does not match this database: set the GATEPASS_MASTER_KEY "
            "(or master.key file) it was initialised with"
        )
    profiles = build_profiles(settings)
    keys = KeyManager(
        storage,
        master,
        clock,
        alg=settings.signing_alg,
        longest_token_lifetime=max(p.longest_token_lifetime for p in profiles.values()),
        reload_interval=settings.key_reload_interval,
        shared_secret=settings.hs256_secret,
    )
    if initialize:
        await keys.ensure_initial_key()
    try:
        await keys.load()
    except MasterKeyError as exc:
        raise SetupError(str(exc)) from None
    fetcher = HttpJsonFetcher(settings.external_http_timeout)
    # Metrics and audit log lines watch the core's ports; the core itself knows nothing of them.
    storage.audit = ObservedAudit(storage.audit)
    external = ExternalIdentities(
        ExternalVerifier(
            IssuerJwks(
                fetcher,
                clock,
                cache_ttl=settings.external_jwks_ttl,
                min_refresh_interval=settings.external_jwks_min_refresh,
            ),
            clock,
        ),
        configured=[trusted_issuer(config, source="config") for config in settings.issuers],
        stored=storage,
        links=storage,
        users=storage,
        audit=storage.audit,
        clock=clock,
        cache_ttl=settings.principal_cache_ttl,
    )
    shared = await shared_state()
    hashing = HashingPool(
        PasswordHasher(argon2_profile(settings)),
        settings.hash_workers,
        settings.hash_queue,
        observer=PoolMetrics(),
    )
    observed_limiter = login_limiter = ObservedLimiter(limiter or shared.limiter)
    digester = SecretDigester(master.derive("secret-digest"))
    mfa = SecondFactors(
        storage=storage,
        limiter=observed_limiter,
        digester=digester,
        master=master,
        clock=clock,
        config=mfa_config(settings),
    )
    core = wire_core(
        storage=storage,
        denylist=ObservedDenylist(denylist or shared.denylist),
        limiter=observed_limiter,
        hashing=hashing,
        digester=digester,
        keys=keys,
        clock=clock,
        config=CoreConfig(
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.clock_leeway,
            refresh_reuse_grace=settings.refresh_reuse_grace,
            principal_cache_ttl=settings.principal_cache_ttl,
            privileged_scopes=frozenset(settings.privileged_scopes),
        ),
        # Its own copy, as before: a test may add a profile to the running core.
        profiles=dict(profiles),
        external=external,
        oidc_config=oidc_config(settings),
        mfa=mfa,
        passwords=password_policy(settings),
    )
    instance_id = await storage.get_meta(INSTANCE_ID)
    if instance_id is None:
        instance_id = str(uuid.uuid4())
        await storage.set_meta(INSTANCE_ID, instance_id)
    info = ServerInfo(
        name="gatepass", instance_id=instance_id, version=__version__, started_at=clock.now()
    )
    passkeys = PasskeyService(
        users=storage,
        store=storage,
        digester=digester,
        limiter=login_limiter,
        audit=AuditTrail(storage.audit, clock),
        clock=clock,
        rp=relying_party(settings.issuer, issuer_domain(settings.issuer)),
    )
    # A passkey is also a second factor after a password (core/mfa/factors.py's registry).
    mfa.verifiers[METHOD_WEBAUTHN] = passkeys.second_factor
    return Container(
        info=info,
        settings=settings,
        storage=storage,
        denylist=denylist or shared.denylist,
        limiter=limiter or shared.limiter,
        hashing=hashing,
        keys=keys,
        auth=core.auth,
        admin=core.admin,
        oauth=core.oauth,
        oidc=core.oidc,
        account=wire_account(
            settings,
            core,
            storage,
            storage,
            hashing=hashing,
            digester=digester,
            limiter=login_limiter,
            mail_limiter=shared.mail_limiter,
            clock=clock,
        ),
        passkeys=passkeys,
        clock=clock,
        profiles=profiles,
        fetcher=fetcher,
        shared=shared,
    )


@dataclass(frozen=True, slots=True)
class Core:
    """The core's three services, wired to their ports."""

    auth: AuthService
    admin: AdminService
    oauth: OAuthService
    oidc: OidcService


def wire_core(
    *,
    storage: Storage,
    denylist: Denylist,
    limiter: LoginLimiter,
    hashing: HashingPool,
    digester: SecretDigester,
    keys: KeyManager,
    clock: Clock,
    config: CoreConfig,
    profiles: dict[str, TokenProfile],
    external: ExternalIdentities | None,
    oidc_config: OidcConfig,
    mfa: SecondFactors | None = None,
    passwords: PasswordPolicy | None = None,
) -> Core:
    """Each core part gets exactly the ports and parts it uses; shared state (the token
    codec and its verified-signature cache, the principal caches, the profile table) is
    built once here."""
    audit = AuditTrail(storage.audit, clock)
    codec = TokenCodec(keys.ring, issuer=config.issuer, leeway=config.leeway)
    scopes = ScopePolicy(config.privileged_scopes)
    principals = Principals(storage, clock, config.principal_cache_ttl)
    verifier = TokenVerifier(
        codec=codec, keys=keys, sessions=storage, denylist=denylist, clock=clock, config=config
    )
    issuer = Issuer(
        storage=storage,
        keys=keys,
        codec=codec,
        scopes=scopes,
        audit=audit,
        clock=clock,
        config=config,
        profiles=profiles,
    )
    sessions = Sessions(
        storage=storage,
        denylist=denylist,
        verifier=verifier,
        issuer=issuer,
        principals=principals,
        audit=audit,
        clock=clock,
        config=config,
        profiles=profiles,
    )
    logins = Logins(
        storage=storage,
        limiter=limiter,
        hashing=hashing,
        digester=digester,
        principals=principals,
        issuer=issuer,
        audit=audit,
        clock=clock,
        external=external,
        mfa=mfa,
    )
    auth = AuthService(
        logins=logins,
        sessions=sessions,
        verifier=verifier,
        principals=principals,
        keys=keys,
        clock=clock,
        config=config,
        profiles=profiles,
        mfa=mfa,
    )
    admin = AdminService(
        storage=storage,
        clock=clock,
        audit=audit,
        hashing=hashing,
        digester=digester,
        principals=principals,
        sessions=sessions,
        keys=keys,
        codec=codec,
        scopes=scopes,
        external=external,
        mfa=mfa,
        passwords=passwords,
    )
    oidc = OidcService(logins=logins, sessions=sessions, config=oidc_config)
    oauth = OAuthService(
        clients=ClientAuthenticator(
            logins, principals, VerifiedSecrets(denylist, clock, config.principal_cache_ttl)
        ),
        grants=GrantServices(
            logins=logins,
            sessions=sessions,
            profiles=OAUTH_PROFILES,
            audience=config.audience,
            redeem_code=lambda client, code, uri, verifier, ctx: oidc.redeem(
                client, code=code, redirect_uri=uri, verifier=verifier, ctx=ctx
            ),
        ),
        introspection=Introspection(
            verifier, storage, clock, live_session_ttl=config.principal_cache_ttl
        ),
        revocation=Revocation(verifier, sessions, storage),
    )
    return Core(auth=auth, admin=admin, oauth=oauth, oidc=oidc)


def wire_account(
    settings: Settings,
    core: Core,
    storage: Storage,
    store: AccountStore,
    *,
    hashing: HashingPool,
    digester: SecretDigester,
    limiter: LoginLimiter,
    mail_limiter: LoginLimiter,
    clock: Clock,
) -> AccountService:
    """Self-service accounts (issue 18) over the core's sessions and principals."""
    return AccountService(
        storage=storage,
        store=store,
        hashing=hashing,
        digester=digester,
        limiter=limiter,
        mail_limiter=mail_limiter,
        sessions=core.auth.sessions,
        principals=core.auth.principals,
        audit=AuditTrail(storage.audit, clock),
        admin=core.admin,
        mailer=open_mailer(settings),
        config=AccountConfig(
            issuer=settings.issuer,
            site=issuer_domain(settings.issuer),
            reset_ttl=settings.password_reset_ttl,
            invitation_ttl=settings.invitation_ttl,
            verification_ttl=settings.email_verification_ttl,
        ),
        clock=clock,
        background=Background(),
    )


def open_mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer, or None when no mail server is configured (the settings' own check has
    already refused a URL that cannot work)."""
    if settings.smtp_url is None:
        return None
    # Imported here so that deployments without mail never load the SMTP client.
    from gatepass.adapters.mail import MailTemplates, SmtpMailer, smtp_target

    target = smtp_target(settings.smtp_url, settings.smtp_from, settings.smtp_starttls)
    return SmtpMailer(target, MailTemplates(settings.mail_templates_dir), settings.smtp_timeout)


def mfa_config(settings: Settings) -> MfaConfig:
    return MfaConfig(
        issuer_label=settings.totp_issuer,
        require_mfa=settings.require_mfa,
        require_mfa_for_admins=settings.require_mfa_for_admins,
    )


def password_policy(settings: Settings) -> PasswordPolicy:
    breached = (
        PwnedPasswordsApi(settings.breached_password_api, settings.breached_password_timeout)
        if settings.breached_password_check
        else None
    )
    return PasswordPolicy(
        min_length=settings.password_min_length,
        blocklist=settings.password_blocklist,
        breached=breached,
        fail_closed=settings.breached_password_fail_closed,
    )


def trusted_issuer(config: IssuerConfig, *, source: str = "database") -> TrustedIssuer:
    return TrustedIssuer(
        issuer=config.issuer,
        name=config.display_name,
        audiences=config.audiences,
        jwks_uri=config.jwks_uri,
        algorithms=config.algorithms,
        leeway=config.leeway,
        match=config.match,
        allowed_subjects=config.allowed_subjects,
        auto_provision=config.auto_provision,
        provision_org=config.provision_org,
        provision_roles=config.provision_roles,
        client_id=config.client_id,
        source=source,
    )


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        failures_per_account=settings.login_failures_per_account,
        failures_per_address=settings.login_failures_per_address,
        window=settings.login_failure_window,
        ban=settings.login_ban,
        ban_max=settings.login_ban_max,
        known_for=settings.known_address_days * 86400,
    )
