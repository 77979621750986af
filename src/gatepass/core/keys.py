"""Signing keys and the master key that protects them at rest.

The master key (32 random bytes, from the environment or a 0600 key file) never touches the
database. Sub-keys are derived from it with HKDF for each purpose: encrypting signing keys
(AES-256-GCM, the key id as associated data), digesting client secrets and API keys, and a
check value stored in the database so that starting with the wrong master key fails clearly.

Each signing key has a pinned algorithm. The newest active key signs; retired keys keep
verifying and stay in the JWKS until every token they signed has expired. Beside the access
token keys the ring holds the ID token keys (RS256, the algorithm OpenID Connect requires as
the default, issue 17): they sign only ID tokens, are rotated with the others and published
in the same JWKS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from gatepass.core.models import SigningKeyRecord

# Algorithms of keys that sign ID tokens only: never an access token's key (`KeyRing.active`).
ID_TOKEN_ONLY_ALGS = ("RS256",)
RSA_BITS = 2048
_NONCE_BYTES = 12


class MasterKeyError(Exception):
    """The master key is missing, malformed, or not the one this database was created with."""


class MasterKey:
    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise MasterKeyError("the master key must be 32 bytes (base64url-encoded)")
        self._raw = raw

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except (binascii.Error, ValueError):
            raise MasterKeyError("the master key is not valid base64url") from None
        return cls(raw)

    def to_text(self) -> str:
        return base64.urlsafe_b64encode(self._raw).rstrip(b"=").decode()

    def derive(self, purpose: str) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"gatepass:{purpose}".encode()
        ).derive(self._raw)

    def check_value(self) -> str:
        """A value stored beside the data: it tells a wrong master key from the right one."""
        return hmac.new(self.derive("check"), b"gatepass-master-key", hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: bytes, associated: bytes, purpose: str = "signing-keys") -> bytes:
        """AES-256-GCM under the sub-key for `purpose` (signing keys; TOTP secrets)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + AESGCM(self.derive(purpose)).encrypt(nonce, plaintext, associated)

    def decrypt(self, blob: bytes, associated: bytes, purpose: str = "signing-keys") -> bytes:
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        try:
            return AESGCM(self.derive(purpose)).decrypt(nonce, sealed, associated)
        except InvalidTag:
            what = "a signing key" if purpose == "signing-keys" else f"a {purpose} secret"
            raise MasterKeyError(f"{what} cannot be decrypted with this master key") from None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A usable key: `signer` signs, `verifier` verifies, `alg` is pinned."""

    kid: str
    alg: str
    signer: Any
    verifier: Any
    public_jwk: Mapping[str, Any] | None
    status: str
    created_at: float
    publish_until: float | None


def new_kid() -> str:
    return secrets.token_urlsafe(12)


def generate_signing_key(alg: str, master: MasterKey, now: float) -> SigningKeyRecord:
    """Create a key pair and return its record, the private half sealed under the master key."""
    private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"cannot generate a stored key for {alg}")
    kid = new_kid()
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKeyRecord(
        kid=kid,
        alg=alg,
        public_jwk=_public_jwk(private.public_key(), alg, kid),
        private_encrypted=master.encrypt(der, kid.encode()),
        created_at=now,
        status="active",
    )


def _public_jwk(public: Any, alg: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any]
    if alg == "ES256":
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk.pop("key_ops", None)  # RFC 7517 §4.3: not together with `use`
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def load_signing_key(
    record: SigningKeyRecord, master: MasterKey, *, validate: bool = True
) -> SigningKey:
    """Decrypt and parse a stored key. `validate=False` skips cryptography's RSA key checks
    (33 ms of CPU per RS256 key, against microseconds without): safe only where the key is
    known good, as in a running process's key ring, whose keys gatepass generated itself and
    AES-GCM authenticates (a key that decrypts is, bit for bit, the one generated). `gatepass
    doctor` and a backup's import keep the checks."""
    der = master.decrypt(record.private_encrypted, record.kid.encode())
    private = serialization.load_der_private_key(
        der, password=None, unsafe_skip_rsa_key_validation=not validate
    )
    return SigningKey(
        kid=record.kid,
        alg=record.alg,
        signer=private,
        verifier=private.public_key(),
        public_jwk=record.public_jwk,
        status=record.status,
        created_at=record.created_at,
        publish_until=record.publish_until,
    )


def shared_secret_key(secret: str) -> SigningKey:
    """HS256 from configuration: one symmetric key, never published."""
    raw = secret.encode()
    kid = "hs256-" + hashlib.sha256(b"gatepass-kid:" + raw).hexdigest()[:12]
    return SigningKey(
        kid=kid,
        alg="HS256",
        signer=raw,
        verifier=raw,
        public_jwk=None,
        status="active",
        created_at=0.0,
        publish_until=None,
    )


class KeyRing:
    """The keys one process signs and verifies with, reloaded from storage when stale."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.replace(keys)

    def replace(self, keys: list[SigningKey]) -> None:
        by_kid = {key.kid: key for key in keys}
        active = [key for key in keys if key.status == "active"]
        primary = [key for key in active if key.alg not in ID_TOKEN_ONLY_ALGS]
        if not primary:
            raise MasterKeyError(
                "no active signing key: run `gatepass init` or `gatepass keys rotate`"
            )
        self._by_kid = by_kid
        self._active = max(primary, key=lambda key: key.created_at)
        self._active_by_alg = {
            key.alg: key for key in sorted(active, key=lambda key: key.created_at)
        }

    @property
    def active(self) -> SigningKey:
        """The key access and refresh tokens are signed with."""
        return self._active

    def active_for(self, alg: str) -> SigningKey | None:
        """The newest active key of `alg` (ID tokens: RS256, or ES256), if there is one."""
        if alg == self._active.alg:
            return self._active
        return self._active_by_alg.get(alg)

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def usable_at(self, kid: str, now: float) -> SigningKey | None:
        key = self._by_kid.get(kid)
        if key is None or (key.publish_until is not None and now >= key.publish_until):
            return None
        return key

    def jwks(self, now: float) -> dict[str, Any]:
        published = [
            dict(key.public_jwk)
            for key in sorted(
                self._by_kid.values(),
                key=lambda key: (key.kid != self._active.kid, -key.created_at),
            )
            if key.public_jwk is not None and (key.publish_until is None or now < key.publish_until)
        ]
        return {"keys": published}

    def all(self) -> list[SigningKey]:
        return list(self._by_kid.values())
