"""Issuing and checking gatepass JWTs.

Checking is two separate steps, as in joserfc: the JOSE library verifies the signature with the
one key the header's `kid` names and that key's pinned algorithm; then the claims are checked
here against the injected clock. A header may not choose its own key material (`jku`, `x5u`,
`jwk`, `x5c`) nor demand extensions (`crit`): such tokens are refused before any key is used.
"""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import jwt
import orjson
from jwt.exceptions import InvalidTokenError as JoseInvalidToken

from gatepass.core.errors import InvalidToken, TokenExpired, WrongTokenType
from gatepass.core.keys import KeyRing
from gatepass.core.models import VerifiedToken

ACCESS = "access"
REFRESH = "refresh"
ACCESS_TYP = "at+jwt"  # RFC 9068
REFRESH_TYP = "rt+jwt"
MAX_TOKEN_BYTES = 8192
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"})
_SIGNATURE_ONLY = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "require": [],
}


class UnknownSigningKey(InvalidToken):
    """The header names a key this process does not hold (yet): the caller may reload keys."""

    def __init__(self, kid: str) -> None:
        super().__init__("the token was not signed by a gatepass key")
        self.kid = kid


class TokenCodec:
    def __init__(
        self, keyring: KeyRing, *, issuer: str, leeway: float, verified_cache: int = 4096
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.leeway = leeway
        # Tokens whose signature this process has verified, by their exact text: the same
        # bearer token arrives again and again, and checking an ES256 signature is the most
        # expensive step of verification. Claims (expiry) and revocation are still checked on
        # every use, and an entry counts only while its key is still usable.
        self._verified: OrderedDict[str, VerifiedToken] = OrderedDict()
        self._verified_max = verified_cache
        self._jws = jwt.PyJWS()

    def encode(self, claims: Mapping[str, Any], typ: str) -> str:
        key = self.keyring.active
        # The JOSE library signs; the claims are serialised by orjson (PyJWT would use the
        # much slower standard json module).
        return self._jws.encode(
            orjson.dumps(dict(claims)),
            key.signer,
            algorithm=key.alg,
            headers={"kid": key.kid, "typ": typ},
        )

    def verify_signature(self, token: str, now: float) -> VerifiedToken:
        """Signature and structure only; claims are checked by `check_claims`."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("the token is malformed")
        known = self._verified.get(token)
        if known is not None and self.keyring.usable_at(known.kid, now) is not None:
            return known
        verified = self._verify_signature(token, now)
        self._verified[token] = verified
        if len(self._verified) > self._verified_max:
            self._verified.popitem(last=False)
        return verified

    def _verify_signature(self, token: str, now: float) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
        except JoseInvalidToken:
            raise InvalidToken("the token is malformed") from None
        if _FORBIDDEN_HEADERS & header.keys():
            raise InvalidToken("the token header names key material gatepass does not accept")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no signing key")
        key = self.keyring.usable_at(kid, now)
        if key is None:
            raise UnknownSigningKey(kid[:64])
        if header.get("alg") != key.alg:
            raise InvalidToken("the token's algorithm does not match its key")
        try:
            decoded = jwt.decode_complete(
                token,
                key.verifier,
                algorithms=[key.alg],
                options=_SIGNATURE_ONLY,  # type: ignore[arg-type]
            )
        except JoseInvalidToken:
            raise InvalidToken("the token signature is invalid") from None
        claims = decoded["payload"]
        if not isinstance(claims, dict):
            raise InvalidToken("the token is malformed")
        return VerifiedToken(claims=claims, kid=kid)

    def check_claims(
        self,
        token: VerifiedToken,
        *,
        now: float,
        use: str,
        audience: str | None,
        check_expiry: bool = True,
    ) -> VerifiedToken:
        claims = token.claims
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token was issued by someone else")
        token_use = claims.get("token_use")
        if token_use != use:
            raise WrongTokenType(f"a {token_use or 'foreign'} token cannot be used as {use} token")
        if audience is not None and not _audience_matches(claims.get("aud"), audience):
            raise InvalidToken("the token is meant for another audience")
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _is_number(exp) or not _is_number(iat):
            raise InvalidToken("the token lacks a valid exp or iat")
        if check_expiry and now >= float(exp) + self.leeway:  # type: ignore[arg-type]
            raise TokenExpired()
        if nbf is not None and (not _is_number(nbf) or now + self.leeway < float(nbf)):
            raise InvalidToken("the token is not valid yet")
        if float(iat) > now + self.leeway:  # type: ignore[arg-type]
            raise InvalidToken("the token was issued in the future")
        for name in ("sub", "jti"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise InvalidToken(f"the token lacks a valid {name}")
        return token


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _audience_matches(aud: object, expected: str) -> bool:
    if isinstance(aud, str):
        return hmac.compare_digest(aud.encode(), expected.encode())  # any text, not only ASCII
    if isinstance(aud, list):
        return any(isinstance(item, str) and item == expected for item in aud)
    return False
