"""Keeping a process's key ring in step with the stored keys.

Keys are reloaded when the ring is older than `reload_interval` (so a rotation done by another
process or the CLI is picked up within that bound) and when a token names an unknown `kid` —
at most once per `unknown_kid_interval`, so junk key ids cannot make us hammer the database.

A reload decrypts and parses only keys it has not seen (by kid and encrypted bytes): parsing
an RSA private key costs milliseconds, and a worker reloads every few seconds. Status and
publication dates always come from the fresh record.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gatepass.core.clock import Clock
from gatepass.core.errors import NotFound, StorageUnavailable
from gatepass.core.keys import (
    ID_TOKEN_ONLY_ALGS,
    KeyRing,
    MasterKey,
    SigningKey,
    generate_signing_key,
    load_signing_key,
    shared_secret_key,
)
from gatepass.core.models import SigningKeyRecord
from gatepass.core.ports import KeyStore
from gatepass.core.text import clip


class KeyManager:
    def __init__(
        self,
        store: KeyStore,
        master: MasterKey,
        clock: Clock,
        *,
        alg: str,
        longest_token_lifetime: float,
        reload_interval: float = 5.0,
        unknown_kid_interval: float = 1.0,
        shared_secret: str | None = None,
    ) -> None:
        self._store = store
        self._master = master
        self._clock = clock
        self.alg = alg
        self.longest_token_lifetime = longest_token_lifetime
        self.reload_interval = reload_interval
        self.unknown_kid_interval = unknown_kid_interval
        self._shared = (
            shared_secret_key(shared_secret) if alg == "HS256" and shared_secret else None
        )
        self._ring: KeyRing | None = None
        self._loaded_at = float("-inf")
        self._unknown_kid_checked_at = float("-inf")
        self._lock = asyncio.Lock()
        # kid -> (encrypted private key, its parsed key): reused by the next reload.
        self._parsed: dict[str, tuple[bytes, SigningKey]] = {}

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            raise RuntimeError("keys not loaded; call KeyManager.load() first")
        return self._ring

    async def load(self) -> KeyRing:
        records = await self._store.list_signing_keys()
        now = self._clock.now()
        keys = [
            self._load_key(record)
            for record in records
            if record.publish_until is None or now < record.publish_until
        ]
        self._parsed = {key.kid: self._parsed[key.kid] for key in keys}
        if self._shared is not None:
            # HS256 signs; the stored asymmetric keys keep verifying what they signed before.
            # ID token keys (RS256) keep signing ID tokens: HS256 cannot be published.
            keys = [key if key.alg in ID_TOKEN_ONLY_ALGS else _as_retired(key) for key in keys] + [
                self._shared
            ]
        if self._ring is None:
            self._ring = KeyRing(keys)
        else:
            self._ring.replace(keys)
        self._loaded_at = now
        return self._ring

    def _load_key(self, record: SigningKeyRecord) -> SigningKey:
        seen = self._parsed.get(record.kid)
        if seen is not None and seen[0] == record.private_encrypted:
            key = replace(
                seen[1],
                public_jwk=record.public_jwk,
                status=record.status,
                created_at=record.created_at,
                publish_until=record.publish_until,
            )
        else:
            # Without cryptography's RSA checks (see load_signing_key): 33 ms of CPU per RS256
            # key at each start, rotation and new key seen, against microseconds.
            key = load_signing_key(record, self._master, validate=False)
        self._parsed[record.kid] = (record.private_encrypted, key)
        return key

    async def ensure_fresh(self) -> None:
        if self._clock.now() - self._loaded_at >= self.reload_interval:
            async with self._lock:
                if self._clock.now() - self._loaded_at >= self.reload_interval:
                    try:
                        await self.load()
                    except StorageUnavailable:
                        if self._ring is None:
                            raise
                        # Keep the keys we have while the database is away (no rotation can
                        # be stored meanwhile), so verification does not depend on it; retry
                        # in a second.
                        self._loaded_at = self._clock.now() - self.reload_interval + 1.0

    async def reload_for_unknown_kid(self) -> bool:
        """Reload once per interval at most; True when a reload actually happened."""
        now = self._clock.now()
        if now - self._unknown_kid_checked_at < self.unknown_kid_interval:
            return False
        self._unknown_kid_checked_at = now
        async with self._lock:
            await self.load()
        return True

    async def ensure_initial_key(self) -> SigningKeyRecord | None:
        """Create the first key pairs if the store has none (used by `gatepass init`): the
        access token key, and the ID token key (RS256)."""
        records = await self._store.list_signing_keys()
        active = {record.alg for record in records if record.status == "active"}
        for alg in ID_TOKEN_ONLY_ALGS:
            if alg not in active:
                await self._create(alg)
        if active - set(ID_TOKEN_ONLY_ALGS):
            return None
        return await self._create(self.alg if self.alg != "HS256" else "ES256")

    async def ensure_key_for(self, alg: str) -> None:
        """Make sure an active key of `alg` exists: a deployment created before ID token keys
        existed gets its RS256 key on the first ID token (two processes racing here create
        two keys, both published; the newer signs)."""
        await self.ensure_fresh()
        if self.ring.active_for(alg) is not None:
            return
        async with self._lock:
            await self.load()
            if self.ring.active_for(alg) is None:
                await self._create(alg)
                await self.load()

    async def rotate(self) -> SigningKeyRecord:
        """A new active key for access tokens and one for ID tokens; the others retire and
        stay published until their tokens expire. Returns the access token key."""
        alg = self.alg if self.alg != "HS256" else "ES256"
        record = await self._create(alg)
        now = self._clock.now()
        await self._store.retire_signing_keys(
            record.kid, now, publish_until=now + self.longest_token_lifetime
        )
        for id_alg in ID_TOKEN_ONLY_ALGS:
            await self._create(id_alg)
        await self.load()
        return record

    async def _create(self, alg: str) -> SigningKeyRecord:
        record = generate_signing_key(alg, self._master, self._clock.now())
        await self._store.add_signing_key(record)
        return record

    async def records(self) -> list[SigningKeyRecord]:
        return await self._store.list_signing_keys()

    async def find(self, kid: str) -> SigningKeyRecord:
        for record in await self._store.list_signing_keys():
            if record.kid == kid:
                return record
        raise NotFound(f"no signing key {clip(kid)}")


def _as_retired(key: SigningKey) -> SigningKey:
    return SigningKey(
        kid=key.kid,
        alg=key.alg,
        signer=key.signer,
        verifier=key.verifier,
        public_jwk=key.public_jwk,
        status="retired",
        created_at=key.created_at,
        publish_until=key.publish_until,
    )
