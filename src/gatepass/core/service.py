"""AuthService: the one door into the core for every login surface.

Each public operation is one complete step — a login with one kind of credential, a refresh,
a verification, a logout — taking plain values and returning plain values or raising a typed
`GatepassError`. Surfaces parse, call one operation, and render.

This class only composes the modules where each step is decided, and hands their operations
out under one name; nothing is decided here:

- a login:         `core/login.py` (`Logins`), issuing through `core/issuance.py` (`Issuer`)
- a refresh:       `core/sessions.py` (`Sessions.refresh`), as are logout and revocation
- a verification:  `core/verification.py` (`TokenVerifier`)
- who a token or session speaks for, and its caches: `core/principals.py` (`Principals`)
- every audit event: `core/audit.py`
"""

from __future__ import annotations

from collections.abc import Mapping

from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.config import CoreConfig
from gatepass.core.credentials import SecretDigester
from gatepass.core.external import ExternalIdentities
from gatepass.core.issuance import Issuer
from gatepass.core.keymanager import KeyManager
from gatepass.core.login import Logins
from gatepass.core.passwords import HashingPool
from gatepass.core.policies import ScopePolicy
from gatepass.core.ports import Denylist, LoginLimiter, Storage
from gatepass.core.principals import Principals
from gatepass.core.profiles import TokenProfile
from gatepass.core.sessions import Sessions
from gatepass.core.tokens import TokenCodec
from gatepass.core.verification import TokenVerifier

__all__ = ["AuthService", "CoreConfig"]


class AuthService:
    def __init__(
        self,
        *,
        storage: Storage,
        denylist: Denylist,
        limiter: LoginLimiter,
        hashing: HashingPool,
        digester: SecretDigester,
        keys: KeyManager,
        clock: Clock,
        config: CoreConfig,
        profiles: Mapping[str, TokenProfile],
        external: ExternalIdentities | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        self.storage = storage
        self.denylist = denylist
        self.limiter = limiter
        self.hashing = hashing
        self.digester = digester
        self.keys = keys
        self.clock = clock
        self.config = config
        # One dict shared by every part (a test may add a profile to a running service).
        self.profiles = dict(profiles)
        self.external = external
        self.audit = audit or AuditTrail(storage.audit, clock)
        self.codec = TokenCodec(keys.ring, issuer=config.issuer, leeway=config.leeway)
        self.scopes = ScopePolicy(config.privileged_scopes)
        self.principals = Principals(storage, clock, config.principal_cache_ttl)
        self.verifier = TokenVerifier(
            codec=self.codec,
            keys=keys,
            sessions=storage,
            denylist=denylist,
            clock=clock,
            config=config,
        )
        self.issuer = Issuer(
            storage=storage,
            keys=keys,
            codec=self.codec,
            scopes=self.scopes,
            audit=self.audit,
            clock=clock,
            config=config,
            profiles=self.profiles,
        )
        self.sessions = Sessions(
            storage=storage,
            denylist=denylist,
            verifier=self.verifier,
            issuer=self.issuer,
            principals=self.principals,
            audit=self.audit,
            clock=clock,
            config=config,
            profiles=self.profiles,
        )
        self.logins = Logins(
            storage=storage,
            limiter=limiter,
            hashing=hashing,
            digester=digester,
            principals=self.principals,
            issuer=self.issuer,
            audit=self.audit,
            clock=clock,
            external=external,
        )

        # The operations the surfaces call, each decided in the module named above.
        logins = self.logins
        self.login_password = logins.login_password
        self.check_password = logins.check_password
        self.login_client = logins.login_client
        self.login_api_key = logins.login_api_key
        self.login_secret = logins.login_secret
        self.login_principal = logins.login_principal
        self.login_external = logins.login_external
        self.authenticate_client = logins.authenticate_client
        self.verify_external = logins.verify_external
        self.external_tenants = logins.external_tenants
        sessions = self.sessions
        self.refresh = sessions.refresh
        self.logout = sessions.logout
        self.revoke_session = sessions.revoke_session
        self.revoke_principal = sessions.revoke_principal
        verifier = self.verifier
        self.verify_access = verifier.verify_access
        self.verify_refresh = verifier.verify_refresh
        self.verify_signature = verifier.verify_signature
        principals = self.principals
        self.principal_for = principals.principal_for
        self.scopes_of_roles = principals.scopes_of_roles
        self.cached_client = principals.cached_client
        self.invalidate_cached = principals.invalidate_cached
        self.forget_role_scopes = principals.forget_role_scopes
