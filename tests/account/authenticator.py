"""A software WebAuthn authenticator for the tests: it makes the attestation and assertion a
platform authenticator would (packed as "none" attestation, ES256), with `cryptography` and
`cbor2`. It plays the browser and the authenticator; gatepass verifies with py_webauthn.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40
BE, BS = 0x08, 0x10  # backup eligible, backed up (a synced passkey)
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    origin: str
    rp_id: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0
    user_handle: bytes = b""
    synced: bool = False  # a synced passkey: the backup eligible and backed up flags are set

    def credential_id_b64(self) -> str:
        return b64url(self.credential_id)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _auth_data(self, flags: int, rp_id: str | None, attested: bytes = b"") -> bytes:
        if self.synced:
            flags |= BE | BS
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(
        self,
        options: dict[str, Any],
        *,
        user_verified: bool = True,
        origin: str | None = None,
        rp_id: str | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.create(), answered."""
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id
        flags = UP | AT | (UV if user_verified else 0)
        auth_data = self._auth_data(flags, rp_id, attested + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        user_verified: bool = True,
        origin: str | None = None,
        rp_id: str | None = None,
        advance: int = 1,
    ) -> dict[str, Any]:
        """navigator.credentials.get(), answered; the counter moves by `advance`."""
        self.sign_count += advance
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(UP | (UV if user_verified else 0), rp_id)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
