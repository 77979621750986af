"""ID tokens (OpenID Connect Core §2, §3.1.3.6): claims, and signing with the key the client
registered for (RS256 unless `id_token_signed_response_alg` says ES256)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from gatepass.core.keymanager import KeyManager
from gatepass.core.oidc.models import AuthorizationCode
from gatepass.core.tokens import TokenCodec

ID_TOKEN_TYP = "JWT"


@dataclass(frozen=True, slots=True)
class IdTokenSigner:
    codec: TokenCodec
    keys: KeyManager
    issuer: str
    ttl: float

    async def sign(
        self, code: AuthorizationCode, *, alg: str, access_token: str, now: float
    ) -> str:
        await self.keys.ensure_key_for(alg)
        self.codec.keyring = self.keys.ring
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": code.user_id,  # stable per user: the user id
            "aud": code.client_id,
            "azp": code.client_id,
            "iat": int(now),
            "exp": int(now + self.ttl),
            "auth_time": int(code.auth_time),
            "at_hash": token_hash(access_token),
            "amr": list(code.amr),
            "sid": code.signin_session_id,
        }
        if code.acr is not None:
            claims["acr"] = code.acr
        if code.nonce is not None:
            claims["nonce"] = code.nonce
        return self.codec.encode(claims, ID_TOKEN_TYP, alg=alg)


def token_hash(token: str) -> str:
    """`at_hash` (Core §3.1.3.6): the left half of the SHA-256 of the token, base64url. Both
    algorithms offered (RS256, ES256) hash with SHA-256."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
