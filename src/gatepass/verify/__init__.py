"""gatepass.verify: checking gatepass access tokens in the APIs they protect.

For resource servers: it needs httpx and PyJWT, never gatepass's server side (no database, no
configuration). Its header screen, claim checks and key cache are `gatepass.jose`'s, the very
code the server checks its own tokens with. `TokenVerifier` fetches and caches the issuer's
JWKS and checks signature, issuer, audience, expiry with leeway, and scopes;
`gatepass.verify.starlette` adds the Starlette/FastAPI dependency `require_scopes(...)`.
See docs/verify.md.
"""

from gatepass.verify.errors import (
    ExpiredToken,
    InsufficientAuthentication,
    InsufficientScope,
    InvalidToken,
    JwksUnavailable,
    VerificationError,
)
from gatepass.verify.jwks import JwksCache, PublicKey, parse_jwks
from gatepass.verify.verifier import AccessToken, TokenVerifier

__all__ = [
    "AccessToken",
    "ExpiredToken",
    "InsufficientAuthentication",
    "InsufficientScope",
    "InvalidToken",
    "JwksCache",
    "JwksUnavailable",
    "PublicKey",
    "TokenVerifier",
    "VerificationError",
    "parse_jwks",
]
