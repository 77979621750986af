"""AuthService: the one door into the core for every login surface.

Each public operation is one complete step — a login with one kind of credential, a refresh,
a verification, a logout — taking plain values and returning plain values or raising a typed
`GatepassError`. Surfaces parse, call one operation, and render.

This class only hands out, under one name, the operations of the modules where each step is
decided (wired together in `gatepass.app.container`); nothing is decided here:

- a login:         `core/login.py` (`Logins`), issuing through `core/issuance.py` (`Issuer`)
- a refresh:       `core/sessions.py` (`Sessions.refresh`), as are logout and revocation
- a verification:  `core/verification.py` (`TokenVerifier`)
- who a token or session speaks for, and its caches: `core/principals.py` (`Principals`)
- every audit event: `core/audit.py`
"""

from __future__ import annotations

from gatepass.core.clock import Clock
from gatepass.core.config import CoreConfig
from gatepass.core.keymanager import KeyManager
from gatepass.core.login import Logins
from gatepass.core.mfa.service import SecondFactors
from gatepass.core.principals import Principals
from gatepass.core.profiles import TokenProfile
from gatepass.core.sessions import Sessions
from gatepass.core.verification import TokenVerifier

__all__ = ["AuthService", "CoreConfig"]


class AuthService:
    def __init__(
        self,
        *,
        logins: Logins,
        sessions: Sessions,
        verifier: TokenVerifier,
        principals: Principals,
        keys: KeyManager,
        clock: Clock,
        config: CoreConfig,
        profiles: dict[str, TokenProfile],
        mfa: SecondFactors | None = None,
    ) -> None:
        self.logins = logins
        self.mfa = mfa  # second factors (core/mfa/): enrolment; None: password logins only
        self.sessions = sessions
        self.verifier = verifier
        self.principals = principals
        # What a few surfaces read directly: the signing keys (JWKS), the time, the settings.
        self.keys = keys
        self.clock = clock
        self.config = config
        # The one profile table every part shares (a test may add a profile to it).
        self.profiles = profiles

        # The operations the surfaces call, each decided in the module named above.
        self.login_password = logins.login_password
        self.check_password = logins.check_password
        self.login_second_factor = logins.login_second_factor
        self.login_after_enrolment = logins.login_after_enrolment
        self.login_client = logins.login_client
        self.login_api_key = logins.login_api_key
        self.login_secret = logins.login_secret
        self.login_principal = logins.login_principal
        self.login_external = logins.login_external
        self.authenticate_client = logins.authenticate_client
        self.verify_external = logins.verify_external
        self.external_tenants = logins.external_tenants
        self.refresh = sessions.refresh
        self.logout = sessions.logout
        self.revoke_session = sessions.revoke_session
        self.revoke_principal = sessions.revoke_principal
        self.verify_access = verifier.verify_access
        self.verify_refresh = verifier.verify_refresh
        self.verify_signature = verifier.verify_signature
        self.principal_for = principals.principal_for
        self.scopes_of_roles = principals.scopes_of_roles
        self.cached_client = principals.cached_client
        self.invalidate_cached = principals.invalidate_cached
        self.forget_role_scopes = principals.forget_role_scopes
