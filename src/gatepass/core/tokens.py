"""Issuing and checking gatepass JWTs.

Checking is two separate steps, as in joserfc: the JOSE library verifies the signature with the
one key the header's `kid` names and that key's pinned algorithm; then the claims are checked
against the injected clock. The header screen and the claim checks are `gatepass.jose`'s (the
same as gatepass.verify's): a header may not choose its own key material (`jku`, `x5u`, `jwk`,
`x5c`, nor thumbprints `x5t`/`x5t#S256`) nor demand extensions (`crit`). What is ours here:
which key a `kid` names, `token_use`, `jti`, and the key-reload signal `UnknownSigningKey`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import jwt
import orjson
from jwt.algorithms import Algorithm
from jwt.utils import base64url_encode

from gatepass.core.errors import InvalidToken, WrongTokenType
from gatepass.core.jwt import OWN_TOKENS, Refused, own_refusal
from gatepass.core.keys import KeyRing, SigningKey
from gatepass.core.models import VerifiedToken
from gatepass.jose.claims import (
    check_audience,
    check_issuer,
    check_lifetime,
    check_subject,
    non_empty_string,
)
from gatepass.jose.header import pinned_algorithm, screen_header, verified_claims

ACCESS = "access"
REFRESH = "refresh"
ACCESS_TYP = "at+jwt"  # RFC 9068
REFRESH_TYP = "rt+jwt"
MAX_TOKEN_BYTES = OWN_TOKENS.max_bytes


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
        # (kid, typ) -> (the key, the library's header segment, the algorithm, the prepared key).
        self._signing: dict[tuple[str, str], tuple[Any, bytes, Algorithm, Any]] = {}

    def encode(self, claims: Mapping[str, Any], typ: str, alg: str | None = None) -> str:
        """Signed with the access token key, or with the newest active key of `alg` (ID
        tokens: RS256 unless the client registered ES256)."""
        key = self.keyring.active if alg is None else self.keyring.active_for(alg)
        if key is None:
            raise UnknownSigningKey(alg or "")
        # The JOSE library signs; the claims are serialised by orjson (PyJWT would use the
        # much slower standard json module), and the header segment, the same for every token
        # of one key and type, is the one the library produced for that key's first token.
        signer, header, algorithm = self._signer(key, typ)
        signing_input = header + b"." + base64url_encode(orjson.dumps(dict(claims)))
        signature = base64url_encode(algorithm.sign(signing_input, signer))
        return (signing_input + b"." + signature).decode("ascii")

    def _signer(self, key: SigningKey, typ: str) -> tuple[Any, bytes, Algorithm]:
        """The key as the library prepared it, the header segment, the algorithm."""
        cached = self._signing.get((key.kid, typ))
        if cached is None or cached[0] is not key.signer:
            first = self._jws.encode(
                b"{}", key.signer, algorithm=key.alg, headers={"kid": key.kid, "typ": typ}
            )
            algorithm = self._jws.get_algorithm_by_name(key.alg)
            header = first.split(".", 1)[0].encode("ascii")
            cached = (key.signer, header, algorithm, algorithm.prepare_key(key.signer))
            if len(self._signing) > 64:  # rotations only ever add a few
                self._signing.clear()
            self._signing[(key.kid, typ)] = cached
        return cached[3], cached[1], cached[2]

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
            header = screen_header(token, OWN_TOKENS)
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise InvalidToken("the token names no signing key")
            key = self.keyring.usable_at(kid, now)
            if key is None:
                raise UnknownSigningKey(kid[:64])
            claims = verified_claims(token, key.verifier, pinned_algorithm(header, (key.alg,)))
        except Refused as refused:
            raise own_refusal(refused) from None
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
        try:
            check_issuer(claims, self.issuer)
            # The kind of token is reported before the audience: a refresh token shown to an
            # API is the wrong kind of token, whatever its audience.
            token_use = claims.get("token_use")
            if token_use != use:
                raise WrongTokenType(
                    f"a {token_use or 'foreign'} token cannot be used as {use} token"
                )
            if audience is not None:
                check_audience(claims, (audience,))
            check_lifetime(
                claims, now=now, leeway=self.leeway, require_iat=True, check_expiry=check_expiry
            )
            check_subject(claims)
        except Refused as refused:
            raise own_refusal(refused) from None
        if not non_empty_string(claims.get("jti")):
            raise InvalidToken("the token lacks a valid jti")
        return token
