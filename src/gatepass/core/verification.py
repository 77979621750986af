"""Deciding whether a gatepass token is good: signature, claims, revocation, csrf, scopes.

The signature is checked by the JOSE library with the key the header names (`core/tokens.py`),
then the claims against the clock, then the denylist: a token is refused when it, its session
or (for a stateless client token) its client was revoked after it was issued.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from gatepass.core.clock import Clock
from gatepass.core.config import CoreConfig
from gatepass.core.errors import CsrfMismatch, GatepassError, InvalidToken, TokenRevoked
from gatepass.core.ids import uuid7_time
from gatepass.core.keymanager import KeyManager
from gatepass.core.models import Session, VerifiedToken
from gatepass.core.ports import Denylist, SessionStore
from gatepass.core.resources import issued_for
from gatepass.core.scopes import require
from gatepass.core.tokens import ACCESS, REFRESH, TokenCodec, UnknownSigningKey


# What the denylist is asked about a token: its own id, its session, or its client.
def session_key(session_id: str) -> str:
    return f"sid:{session_id}"


def jti_key(jti: str) -> str:
    return f"jti:{jti}"


def client_key(client_id: str) -> str:
    return f"client:{client_id}"


class TokenVerifier:
    def __init__(
        self,
        *,
        codec: TokenCodec,
        keys: KeyManager,
        sessions: SessionStore,
        denylist: Denylist,
        clock: Clock,
        config: CoreConfig,
    ) -> None:
        self.codec = codec
        self.keys = keys
        self.sessions = sessions
        self.denylist = denylist
        self.clock = clock
        self.config = config

    async def verify_access(
        self,
        token: str,
        *,
        csrf: str | None = None,
        required_scopes: Iterable[str] = (),
        audience: str | None = None,
        any_audience: bool = False,
    ) -> VerifiedToken:
        """Signature, claims, revocation, csrf binding and scopes of an access token.

        The token's `aud` must hold `audience` (default: gatepass's own), so a token issued
        for a registered API is refused by gatepass's own endpoints; `any_audience` is for
        the few that serve every token gatepass issued (introspection, logout): gatepass's
        audience, or registered APIs' URIs."""
        now = self.clock.now()
        verified = await self.signature_at(token, now)
        expected = None if any_audience else audience or self.config.audience
        self.check_claims(verified, now, ACCESS, audience=expected)
        if any_audience and not issued_for(verified.claims.get("aud"), self.config.audience):
            raise InvalidToken("the token is meant for another audience")
        await self._check_not_revoked(verified, now)
        bound = verified.claims.get("csrf")
        if bound is not None and (
            csrf is None or not hmac.compare_digest(str(bound).encode(), csrf.encode())
        ):
            raise CsrfMismatch()
        require(verified.scopes, required_scopes)
        return verified

    async def verify_refresh(self, token: str) -> tuple[VerifiedToken, Session]:
        """A refresh token that is current and whose session is active (for introspection)."""
        now = self.clock.now()
        verified = await self.signature_at(token, now)
        self.check_claims(verified, now, REFRESH, audience=self.config.issuer)
        session = await self.sessions.get_session(verified.session_id or "")
        if (
            session is None
            or not session.active_at(now)
            or not hmac.compare_digest(verified.jti, session.refresh_jti or "")
        ):
            raise TokenRevoked()
        return verified, session

    async def verify_signature(self, token: str) -> VerifiedToken:
        """The signature only, claims unchecked (revocation accepts expired tokens too)."""
        return await self.signature_at(token, self.clock.now())

    async def signature_at(self, token: str, now: float) -> VerifiedToken:
        await self.keys.ensure_fresh()
        self.codec.keyring = self.keys.ring
        try:
            return self.codec.verify_signature(token, now)
        except UnknownSigningKey:
            if not await self.keys.reload_for_unknown_kid():
                raise
            self.codec.keyring = self.keys.ring
            return self.codec.verify_signature(token, now)

    def check_claims(
        self,
        verified: VerifiedToken,
        now: float,
        use: str,
        *,
        audience: str | None,
        check_expiry: bool = True,
        on_error: type[GatepassError] | None = None,
    ) -> None:
        """The claims of a token whose signature was verified; `on_error` replaces
        `InvalidToken` for callers with their own refusal (a refresh: `InvalidGrant`)."""
        try:
            self.codec.check_claims(
                verified, now=now, use=use, audience=audience, check_expiry=check_expiry
            )
        except InvalidToken as exc:
            if on_error is None:
                raise
            raise on_error(exc.description) from None

    async def _check_not_revoked(self, verified: VerifiedToken, now: float) -> None:
        keys = [jti_key(verified.jti)]
        if verified.session_id:
            keys.append(session_key(verified.session_id))
        else:
            keys.append(client_key(verified.subject))
        issued_at = uuid7_time(verified.jti) or float(verified.claims.get("iat", 0))
        if await self.denylist.any_revoked(keys, now, issued_at):
            raise TokenRevoked()
