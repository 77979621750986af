"""Tokens signed with a cached header segment (core/tokens.py) are the tokens PyJWT itself
would produce, for every algorithm gatepass signs with; a key ring reload re-parses only keys
it has not seen (core/keymanager.py)."""

from __future__ import annotations

import jwt
import orjson
import pytest

from gatepass.adapters.memory_storage import MemoryStorage
from gatepass.core import keymanager
from gatepass.core.clock import SystemClock
from gatepass.core.keymanager import KeyManager
from gatepass.core.keys import (
    KeyRing,
    MasterKey,
    SigningKey,
    generate_signing_key,
    load_signing_key,
    shared_secret_key,
)
from gatepass.core.models import SigningKeyRecord
from gatepass.core.tokens import ACCESS_TYP, REFRESH_TYP, TokenCodec

ISSUER = "https://issuer.example"
CLAIMS: dict[str, object] = {"iss": ISSUER, "sub": "alice", "jti": "j-1", "iat": 1, "exp": 2}


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA", "HS256"])
def test_encoded_tokens_match_the_library_and_verify(alg):
    if alg == "HS256":
        key = shared_secret_key("a shared secret of enough length for HS256 signing")
    else:
        master = MasterKey.generate()
        key = load_signing_key(generate_signing_key(alg, master, 0.0), master)
    keys = [key]
    if alg == "RS256":  # ID tokens only: the ring also needs an access token key
        master = MasterKey.generate()
        keys.append(load_signing_key(generate_signing_key("ES256", master, 0.0), master))
    codec = TokenCodec(KeyRing(keys), issuer=ISSUER, leeway=0)
    for typ in (ACCESS_TYP, REFRESH_TYP, ACCESS_TYP):  # the second access token: cached header
        token = codec.encode(CLAIMS, typ, alg=alg if alg == "RS256" else None)
        expected = jwt.PyJWS().encode(
            orjson.dumps(CLAIMS), key.signer, algorithm=alg, headers={"kid": key.kid, "typ": typ}
        )
        assert token.split(".")[:2] == expected.split(".")[:2]
        assert jwt.get_unverified_header(token) == {"alg": alg, "kid": key.kid, "typ": typ}
        decoded = jwt.decode(
            token, key.verifier, algorithms=[alg], options={"verify_exp": False}, audience=None
        )
        assert decoded == CLAIMS
        # Signatures differ only where the algorithm is randomised (ECDSA).
        if alg != "ES256":
            assert token == expected


async def test_a_reload_reuses_parsed_keys_and_follows_rotations(monkeypatch):
    master = MasterKey.generate()
    store = MemoryStorage()
    first = generate_signing_key("ES256", master, 0.0)
    await store.add_signing_key(first)
    manager = KeyManager(store, master, SystemClock(), alg="ES256", longest_token_lifetime=900)
    parsed: list[str] = []
    real = load_signing_key

    def counting(record: SigningKeyRecord, key: MasterKey, *, validate: bool = True) -> SigningKey:
        parsed.append(record.kid)
        return real(record, key, validate=validate)

    monkeypatch.setattr(keymanager, "load_signing_key", counting)
    signer = (await manager.load()).active.signer
    assert (await manager.load()).active.signer is signer
    assert parsed == [first.kid]
    # A rotation: the old key's new status is seen without parsing it again.
    newer = generate_signing_key("ES256", master, 10.0)
    await store.add_signing_key(newer)
    await store.retire_signing_keys(newer.kid, 10.0, publish_until=10**12)
    ring = await manager.load()
    assert parsed == [first.kid, newer.kid]
    assert ring.active.kid == newer.kid
    old = ring.get(first.kid)
    assert old is not None
    assert old.status == "retired"
    assert old.signer is signer
