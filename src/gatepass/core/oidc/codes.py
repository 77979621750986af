"""Authorization codes: issued at the end of an authorization request, redeemed once at the
token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6).

A code is 256 random bits, stored as its SHA-256, valid 60 seconds. Its redemption is one
conditional update that consumes the code only if the request proves everything it must — the
client, the redirect URI, the expiry, the PKCE verifier (as its S256 challenge), a sign-in
session not ended since — naming, in advance, the id of the session the tokens will belong to.
Only when that update changes nothing is the code read, to say why (and a failed attempt leaves
the code unused, as checking before consuming did). A second redemption (or a lost race) finds
the code consumed and revokes that session: tokens issued from a leaked code stop working
(RFC 6749 §4.1.2, §10.5).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable

from gatepass.core.errors import InvalidGrant
from gatepass.core.models import Client, RequestContext
from gatepass.core.oidc.authorize import AuthorizationRequest
from gatepass.core.oidc.models import AuthorizationCode, CodeRedemption, SigninSession
from gatepass.core.ports import Storage

CODE_TTL = 60.0
_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def issue_code(
    storage: Storage, request: AuthorizationRequest, signin: SigninSession, now: float
) -> str:
    code = secrets.token_urlsafe(32)
    await storage.add_authorization_code(
        AuthorizationCode(
            code_hash=code_hash(code),
            client_id=request.client.client_id,
            user_id=signin.user_id,
            redirect_uri=request.redirect_uri,
            scopes=request.scopes,
            resources=request.resources,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            nonce=request.nonce,
            signin_session_id=signin.id,
            auth_time=signin.auth_time,
            amr=signin.amr,
            acr=signin.acr,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return code


Revoke = Callable[[str, str], Awaitable[object]]


async def redeem_code(
    storage: Storage,
    client: Client,
    *,
    code: str,
    redirect_uri: str | None,
    verifier: str | None,
    now: float,
    revoke: Revoke,
    ctx: RequestContext,
) -> tuple[AuthorizationCode, str]:
    """The code's record and the id its token session must have; `InvalidGrant` for any code
    that is unknown, used, expired, another client's, or not proven. `revoke(session_id,
    reason)` ends what a reused code's first redemption issued."""
    del ctx
    hashed = code_hash(code)
    session_id = str(uuid.uuid4())
    if redirect_uri is not None and (verifier is None or _well_formed(verifier)):
        proof = CodeRedemption(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            code_challenge=None if verifier is None else s256(verifier),
            now=now,
        )
        consumed = await storage.consume_authorization_code(hashed, session_id, now, expect=proof)
        if consumed is not None:
            return consumed, session_id
    # Not consumed: read the code to say why, in the order the checks have always had.
    record = await storage.get_authorization_code(hashed)
    if record is None:
        raise InvalidGrant("the authorization code is invalid")
    if record.consumed_at is not None:
        await _reused(record, revoke)
    if not hmac.compare_digest(record.client_id.encode(), client.client_id.encode()):
        raise InvalidGrant("the authorization code was issued to another client")
    if now >= record.expires_at:
        raise InvalidGrant("the authorization code has expired")
    if redirect_uri is None or not hmac.compare_digest(
        redirect_uri.encode(), record.redirect_uri.encode()
    ):
        raise InvalidGrant("redirect_uri does not match the authorization request")
    _check_verifier(record, verifier)
    signin = await storage.get_signin_session(record.signin_session_id)
    if signin is None or signin.ended_at is not None:
        raise InvalidGrant("the user has signed out since")
    # Everything matched when read: another redemption changed the code meanwhile.
    raise InvalidGrant("the authorization code is invalid")


async def _reused(record: AuthorizationCode, revoke: Revoke) -> None:
    if record.session_id is not None:
        await revoke(record.session_id, "code_reuse")
    raise InvalidGrant("the authorization code has already been used")


def _check_verifier(record: AuthorizationCode, verifier: str | None) -> None:
    if record.code_challenge is None:
        if verifier is not None:
            # RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            raise InvalidGrant("code_verifier was sent, but the request had no code_challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required")
    if not _well_formed(verifier):
        raise InvalidGrant("code_verifier is malformed (RFC 7636 §4.1)")
    if not hmac.compare_digest(s256(verifier).encode(), record.code_challenge.encode()):
        raise InvalidGrant("code_verifier does not match the code_challenge")


def _well_formed(verifier: str) -> bool:
    return 43 <= len(verifier) <= 128 and set(verifier) <= _VERIFIER_CHARS
