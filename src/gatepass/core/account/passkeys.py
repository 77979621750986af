"""Passkeys (WebAuthn): registration and authentication ceremonies, verified by py_webauthn.

Nothing here parses CBOR, checks a signature or compares a challenge itself: that is
py_webauthn's work. This module keeps the ceremony's state (the challenge, as a single-use
secret that expires in five minutes), the rules of gatepass (who may register, which
credential may sign in whom, the user-verification flag required) and the stored counter.

- The relying party id is the issuer's host; the origin is the issuer's scheme, host and port.
- Every credential is registered discoverable (resident key) and with user verification, so
  that the same passkey serves as a passwordless first factor and as a second factor.
- A passwordless sign-in requires the UV flag; as a second factor after a password, user
  presence suffices (the passkey is "something you have").
- The signature counter must grow (unless the authenticator always sends 0, as synced
  passkeys do); the new value is stored only if no other sign-in stored one meanwhile.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gatepass.core.account.links import SingleUse
from gatepass.core.account.records import LinkPurpose, Passkey
from gatepass.core.audit import AuditTrail
from gatepass.core.clock import Clock
from gatepass.core.credentials import SecretDigester
from gatepass.core.errors import (
    AccountDisabled,
    GatepassError,
    InvalidCredentials,
    InvalidLink,
    InvalidRequest,
    NotFound,
)
from gatepass.core.mfa.factors import AMR_HARDWARE_KEY, AMR_SOFTWARE_KEY
from gatepass.core.models import RequestContext, User
from gatepass.core.ports import AccountStore, LoginLimiter, UserStore

# py_webauthn (with cbor2, pyasn1 and pyOpenSSL behind it, ~250 modules and ~25 MB per
# process) is imported by the ceremonies that use it, not here: a server process that never
# sees a passkey never pays for it (docs/performance.md, "Memory per worker").
if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, RegistrationCredential

CEREMONY_TTL = 300.0
# RFC 8176: proof of possession of a key, with user presence; with user verification (a PIN or
# biometric on the device) it is two factors in one. A device-bound key is `hwk`; a synced one
# (the authenticator's backup-state flag, e.g. a password manager's or a cloud keychain's
# passkey) lives outside any one piece of hardware, so it is `swk`.
ACR_PASSKEY = "urn:gatepass:acr:mfa"


def passkey_amr(user_verified: bool, synced: bool = False) -> tuple[str, ...]:
    key = AMR_SOFTWARE_KEY if synced else AMR_HARDWARE_KEY
    return (key, "mfa", "user") if user_verified else (key, "user")


TIMEOUT_MS = 120_000
MAX_PASSKEYS = 20
MAX_NAME = 64


@dataclass(frozen=True, slots=True)
class RelyingParty:
    id: str
    name: str
    origin: str


_DEFAULT_PORTS = {"http": 80, "https": 443}


def relying_party(issuer: str, name: str) -> RelyingParty:
    """The RP id is the issuer's host; the origin is what a browser serializes for the issuer's
    pages (WHATWG URL: lower-case scheme and host, no default port), the exact string
    `clientDataJSON.origin` is compared with."""
    parts = urlsplit(issuer)
    host = parts.hostname or "localhost"
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{parts.port}"
    return RelyingParty(id=host, name=name, origin=f"{scheme}://{netloc}")


@dataclass(frozen=True, slots=True)
class Ceremony:
    """What the browser needs (`options`, for navigator.credentials) and the `state` it must
    send back with the authenticator's answer."""

    state: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Assertion:
    user: User
    passkey: Passkey
    user_verified: bool
    synced: bool = False  # the backup-state flag of this assertion: a synced passkey


class PasskeyService:
    def __init__(
        self,
        *,
        users: UserStore,
        store: AccountStore,
        digester: SecretDigester,
        limiter: LoginLimiter,
        audit: AuditTrail,
        clock: Clock,
        rp: RelyingParty,
    ) -> None:
        self.users = users
        self.store = store
        self.limiter = limiter
        self.audit = audit
        self.rp = rp
        self.clock = clock
        self.ceremonies = SingleUse(store, digester, clock)

    # ------------------------------------------------------------ registration

    async def registration_options(self, user: User) -> Ceremony:
        from webauthn import generate_registration_options, options_to_json
        from webauthn.helpers.structs import (
            AuthenticatorSelectionCriteria,
            ResidentKeyRequirement,
            UserVerificationRequirement,
        )

        existing = await self.store.list_passkeys(user.id)
        if len(existing) >= MAX_PASSKEYS:
            raise InvalidRequest(f"at most {MAX_PASSKEYS} passkeys per account: remove one first")
        options = generate_registration_options(
            rp_id=self.rp.id,
            rp_name=self.rp.name,
            user_id=user.id.encode(),
            user_name=user.username,
            user_display_name=user.display_name or user.username,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[_descriptor(p) for p in existing],
        )
        return await self._ceremony(
            LinkPurpose.PASSKEY_REGISTRATION, user.id, options.challenge, options_to_json(options)
        )

    async def register(
        self,
        user: User,
        state: str,
        credential: dict[str, Any],
        name: str | None,
        ctx: RequestContext,
    ) -> Passkey:
        from webauthn import verify_registration_response
        from webauthn.helpers import bytes_to_base64url, parse_registration_credential_json
        from webauthn.helpers.exceptions import WebAuthnException

        challenge = await self._spend(LinkPurpose.PASSKEY_REGISTRATION, state, user.id)
        try:
            parsed = parse_registration_credential_json(credential)
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
            await self._audit("passkey.register", "failure", user.username, ctx, _reason(exc))
            raise InvalidRequest(f"the passkey was not accepted: {_reason(exc)}") from None
        now = self.clock.now()
        passkey = Passkey(
            id=str(uuid.uuid4()),
            user_id=user.id,
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=_transports(parsed),
            aaguid=verified.aaguid,
            name=clean_name(name) or "Passkey",
            backed_up=verified.credential_backed_up,
            created_at=now,
        )
        await self.store.add_passkey(passkey)
        await self._audit(
            "passkey.register", "success", user.username, ctx, None, {"passkey": passkey.id}
        )
        return passkey

    # ------------------------------------------------------------ authentication

    async def authentication_options(self, user: User | None = None) -> Ceremony:
        """Without `user`: a passwordless sign-in with any discoverable passkey (the browser
        offers the user's passkeys for this site). With `user`: a second factor, only with
        one of that user's passkeys."""
        from webauthn import generate_authentication_options, options_to_json
        from webauthn.helpers.structs import UserVerificationRequirement

        allowed = [] if user is None else await self.store.list_passkeys(user.id)
        if user is not None and not allowed:
            raise InvalidRequest("the account has no passkey")
        options = generate_authentication_options(
            rp_id=self.rp.id,
            timeout=TIMEOUT_MS,
            allow_credentials=[_descriptor(p) for p in allowed],
            user_verification=(
                UserVerificationRequirement.REQUIRED
                if user is None
                else UserVerificationRequirement.PREFERRED
            ),
        )
        return await self._ceremony(
            LinkPurpose.PASSKEY_AUTHENTICATION,
            user.id if user else None,
            options.challenge,
            options_to_json(options),
        )

    async def authenticate(
        self, state: str, credential: dict[str, Any], ctx: RequestContext, *, user_id: str | None
    ) -> Assertion:
        """Check an assertion against the ceremony `state`. `user_id` says whose ceremony it
        must be (None: a passwordless one). Every refusal is InvalidCredentials, counted by
        the login limiter against the credential and the client address."""
        throttle = "passkey:" + str(credential.get("id", ""))[:128]
        await self.limiter.check(throttle, ctx.ip)
        try:
            token = await self.ceremonies.spend(LinkPurpose.PASSKEY_AUTHENTICATION, state)
            if token.user_id != user_id:
                raise InvalidLink()
            return await self._verify_assertion(token.data or "{}", credential, user_id)
        except (InvalidCredentials, InvalidLink) as error:
            await self.limiter.failure(throttle, ctx.ip)
            await self._audit("passkey.authenticate", "failure", None, ctx, error.code)
            raise InvalidCredentials() from None

    async def _verify_assertion(
        self, data: str, credential: dict[str, Any], user_id: str | None
    ) -> Assertion:
        from webauthn import verify_authentication_response
        from webauthn.helpers import (
            base64url_to_bytes,
            bytes_to_base64url,
            parse_authentication_credential_json,
        )
        from webauthn.helpers.exceptions import WebAuthnException

        try:
            parsed = parse_authentication_credential_json(credential)
        except (WebAuthnException, ValueError, TypeError, KeyError):
            raise InvalidCredentials() from None
        passkey = await self.store.get_passkey(bytes_to_base64url(parsed.raw_id))
        if passkey is None or (user_id is not None and passkey.user_id != user_id):
            raise InvalidCredentials()
        handle = parsed.response.user_handle
        if handle is not None and handle != passkey.user_id.encode():
            raise InvalidCredentials()
        passwordless = user_id is None
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=base64url_to_bytes(json.loads(data)["challenge"]),
                expected_rp_id=self.rp.id,
                expected_origin=self.rp.origin,
                credential_public_key=passkey.public_key,
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=passwordless,
            )
        except (WebAuthnException, ValueError, TypeError, KeyError):
            raise InvalidCredentials() from None
        if not await self.store.record_passkey_use(
            passkey.id,
            seen_count=passkey.sign_count,
            new_count=verified.new_sign_count,
            now=self.clock.now(),
        ):
            raise InvalidCredentials()  # another sign-in used this counter value first
        user = await self.users.get_user(passkey.user_id)
        if user is None:
            raise InvalidCredentials()
        if user.disabled:
            raise AccountDisabled()
        return Assertion(
            user=user,
            passkey=passkey,
            user_verified=verified.user_verified,
            synced=verified.credential_backed_up,
        )

    async def second_factor(
        self, user: User, code: str, ctx: RequestContext
    ) -> tuple[str, ...] | None:
        """The `webauthn` method of /auth/login/mfa: `code` is the JSON text of
        `{"state", "credential"}` from a ceremony of `authentication_options(user)`. What it
        proved: `hwk` for a device-bound passkey, `swk` for a synced one; None when refused."""
        try:
            answer = json.loads(code)
        except ValueError:
            return None
        if not isinstance(answer, dict):
            return None
        state, credential = answer.get("state"), answer.get("credential")
        if not isinstance(state, str) or not isinstance(credential, dict):
            return None
        try:
            assertion = await self.authenticate(state[:512], credential, ctx, user_id=user.id)
        except InvalidCredentials:
            return None
        return (AMR_SOFTWARE_KEY if assertion.synced else AMR_HARDWARE_KEY,)

    # ------------------------------------------------------------ management

    async def list(self, user_id: str) -> list[Passkey]:
        return await self.store.list_passkeys(user_id)

    async def rename(self, user: User, passkey_id: str, name: str, ctx: RequestContext) -> None:
        cleaned = clean_name(name)
        if not cleaned:
            raise InvalidRequest(f"'name': 1 to {MAX_NAME} characters")
        if not await self.store.rename_passkey(user.id, passkey_id, cleaned):
            raise NotFound("no such passkey")
        await self._audit(
            "passkey.rename", "success", user.username, ctx, None, {"passkey": passkey_id}
        )

    async def remove(self, user: User, passkey_id: str, ctx: RequestContext) -> None:
        if not await self.store.delete_passkey(user.id, passkey_id):
            raise NotFound("no such passkey")
        await self._audit(
            "passkey.remove", "success", user.username, ctx, None, {"passkey": passkey_id}
        )

    # ------------------------------------------------------------ helpers

    async def _ceremony(
        self, purpose: LinkPurpose, user_id: str | None, challenge: bytes, options: str
    ) -> Ceremony:
        from webauthn.helpers import bytes_to_base64url

        issued = await self.ceremonies.issue(
            purpose,
            CEREMONY_TTL,
            user_id=user_id,
            data=json.dumps({"challenge": bytes_to_base64url(challenge)}),
        )
        return Ceremony(state=issued.secret, options=json.loads(options))

    async def _spend(self, purpose: LinkPurpose, state: str, user_id: str) -> bytes:
        from webauthn.helpers import base64url_to_bytes

        token = await self.ceremonies.spend(purpose, state)
        if token.user_id != user_id:
            raise InvalidLink()
        return base64url_to_bytes(json.loads(token.data or "{}")["challenge"])

    async def _audit(
        self,
        event: str,
        outcome: str,
        actor: str | None,
        ctx: RequestContext,
        reason: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        recorded = dict(details or {})
        if reason:
            recorded["reason"] = reason
        await self.audit.record(event, outcome, actor, ctx, target=actor, details=recorded)


def clean_name(name: str | None) -> str:
    """A passkey's label: printable, one line, at most MAX_NAME characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in name or "").split())
    return text[:MAX_NAME]


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this py_webauthn does not know: the browser decides
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def _transports(credential: RegistrationCredential) -> tuple[str, ...]:
    return tuple(t.value for t in credential.response.transports or ())


def _reason(error: Exception) -> str:
    if isinstance(error, GatepassError):
        return error.code
    # py_webauthn's messages say what was wrong (challenge, origin, flags), never a secret.
    return str(error)[:200] or type(error).__name__
