"""The header screen, the pinned algorithm and the signature step of gatepass.jose."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gatepass.jose.header import (
    FOREIGN_TOKENS,
    KEY_MATERIAL,
    OWN_TOKENS,
    THUMBPRINTS,
    pinned_algorithm,
    screen_header,
    verified_claims,
)
from gatepass.jose.refusal import Reason, Refused
from tests.jose.forge import hs256_with_public_key, segment, signed, unsigned

HEADER = {"kid": "k1", "typ": "at+jwt"}
CLAIMS = {"sub": "alice", "exp": 1}
# Values a header parameter might carry (crit names an extension PyJWT supports, so that the
# screen, not PyJWT, is what refuses it).
VALUES: dict[str, object] = {
    "jku": "https://evil.example/jwks.json",
    "x5u": "https://evil.example/cert.pem",
    "jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
    "x5c": ["MIIB"],
    "x5t": "dGh1bWI",
    "x5t#S256": "dGh1bWJwcmludA",
    "crit": ["b64"],
}


def _with(private_key: ec.EllipticCurvePrivateKey, name: str) -> str:
    """Signed, except with `crit` (PyJWS drops the `b64: true` it names): the screen runs before
    any signature is looked at, so a header is all it needs."""
    if name == "crit":
        header = HEADER | {"alg": "ES256", "crit": VALUES["crit"], "b64": True}
        return f"{segment(header)}.{segment(CLAIMS)}.c2lnbmF0dXJl"
    return signed(private_key, HEADER | {name: VALUES[name]}, CLAIMS)


def test_the_policies_are_the_decided_ones():
    assert {"jku", "jwk", "x5u", "x5c", "crit"} == KEY_MATERIAL
    assert {"x5t", "x5t#S256"} == THUMBPRINTS
    assert OWN_TOKENS.refused == KEY_MATERIAL | THUMBPRINTS
    assert FOREIGN_TOKENS.refused == KEY_MATERIAL
    assert set(VALUES) == OWN_TOKENS.refused  # every refused parameter is tried below


@pytest.mark.parametrize("name", sorted(OWN_TOKENS.refused))
def test_own_tokens_refuse_every_listed_parameter(private_key, name):
    with pytest.raises(Refused) as refused:
        screen_header(_with(private_key, name), OWN_TOKENS)
    assert refused.value.reason is Reason.KEY_MATERIAL


@pytest.mark.parametrize("name", sorted(FOREIGN_TOKENS.refused))
def test_foreign_tokens_refuse_key_material(private_key, name):
    with pytest.raises(Refused) as refused:
        screen_header(_with(private_key, name), FOREIGN_TOKENS)
    assert refused.value.reason is Reason.KEY_MATERIAL


@pytest.mark.parametrize("name", sorted(THUMBPRINTS))
def test_foreign_tokens_may_carry_thumbprints(private_key, name):
    header = screen_header(_with(private_key, name), FOREIGN_TOKENS)
    assert header[name] == VALUES[name]
    assert header["kid"] == "k1"


def test_a_crit_naming_an_unknown_extension_is_malformed(private_key):
    token = signed(private_key, HEADER | {"crit": ["exp"]}, CLAIMS)
    for policy in (OWN_TOKENS, FOREIGN_TOKENS):
        with pytest.raises(Refused) as refused:
            screen_header(token, policy)
        assert refused.value.reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "token",
    ["", "a", "a.b", "a.b.c", "...", "e30", "W10.e30.", "bnVsbA.e30.", 42, None, "\ud800.e30."],
)
def test_junk_is_malformed(token):
    with pytest.raises(Refused) as refused:
        screen_header(token, OWN_TOKENS)
    assert refused.value.reason is Reason.MALFORMED


def test_the_size_limit_is_the_policys(private_key):
    token = signed(private_key, HEADER | {"pad": "x" * 9000}, CLAIMS)
    assert OWN_TOKENS.max_bytes < len(token) <= FOREIGN_TOKENS.max_bytes
    with pytest.raises(Refused):
        screen_header(token, OWN_TOKENS)
    assert screen_header(token, FOREIGN_TOKENS)["kid"] == "k1"


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384", "RS256", None, 1, ""])
def test_the_algorithm_is_pinned(alg):
    with pytest.raises(Refused) as refused:
        pinned_algorithm({"alg": alg}, ("ES256",))
    assert refused.value.reason is Reason.ALGORITHM
    assert pinned_algorithm({"alg": "ES256"}, ("ES256",)) == "ES256"


def test_alg_none_is_refused_before_and_at_the_signature(private_key):
    token = unsigned(HEADER, CLAIMS)
    with pytest.raises(Refused) as refused:
        pinned_algorithm(screen_header(token, OWN_TOKENS), ("ES256",))
    assert refused.value.reason is Reason.ALGORITHM
    with pytest.raises(Refused) as refused:  # even where a caller forgot to pin
        verified_claims(token, private_key.public_key(), "ES256")
    assert refused.value.reason is Reason.SIGNATURE


def test_hmac_keyed_with_the_public_key_is_refused(private_key):
    token = hs256_with_public_key(private_key.public_key(), HEADER, CLAIMS)
    with pytest.raises(Refused) as refused:
        pinned_algorithm(screen_header(token, OWN_TOKENS), ("ES256",))
    assert refused.value.reason is Reason.ALGORITHM
    with pytest.raises(Refused) as refused:
        verified_claims(token, private_key.public_key(), "ES256")
    assert refused.value.reason is Reason.SIGNATURE


def test_the_signature_is_checked_with_the_given_key_only(private_key):
    token = signed(private_key, HEADER, CLAIMS)
    assert verified_claims(token, private_key.public_key(), "ES256") == CLAIMS
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(Refused) as refused:
        verified_claims(token, other, "ES256")
    assert refused.value.reason is Reason.SIGNATURE


def test_the_claims_are_not_checked_by_the_signature_step(private_key):
    """Expiry is `gatepass.jose.claims`' job, against the caller's clock, not PyJWT's."""
    token = signed(private_key, HEADER, {"sub": "alice", "exp": 1, "nbf": 4_000_000_000})
    assert verified_claims(token, private_key.public_key(), "ES256")["exp"] == 1


def test_a_payload_that_is_not_an_object_is_refused(private_key):
    import jwt

    token = jwt.PyJWS().encode(b"[1, 2]", private_key, algorithm="ES256", headers=HEADER)
    with pytest.raises(Refused) as refused:
        verified_claims(token, private_key.public_key(), "ES256")
    assert refused.value.reason in {Reason.SIGNATURE, Reason.MALFORMED}
