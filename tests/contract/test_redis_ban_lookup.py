"""The Redis ban lookup (one script call, issue 19) answers as the pipeline of PTTLs did: the
longest remaining ban of the given keys, 0 when none exists or one has no expiry."""

from __future__ import annotations

from gatepass.adapters.redis import RedisThrottleStorage
from tests.backends import redis_link


async def test_the_longest_ban_of_the_keys_is_answered() -> None:
    async with redis_link() as link:
        storage = RedisThrottleStorage(link)
        keys = ["ban:pair:a", "ban:acct:b", "ban:addr:c"]
        assert await storage.ban_seconds_left(keys) == 0.0
        assert await storage.ban_seconds_left([]) == 0.0
        raw = link.client
        await raw.set(storage.bridge.prefixed_key("ban:acct:b"), 1, px=3_000)
        await raw.set(storage.bridge.prefixed_key("ban:addr:c"), 1, px=90_000)
        left = await storage.ban_seconds_left(keys)
        assert 80 < left <= 90
        assert 0 < await storage.ban_seconds_left(["ban:acct:b"]) <= 3
        # A ban shorter than a second still counts as one second.
        await raw.set(storage.bridge.prefixed_key("ban:pair:a"), 1, px=200)
        assert await storage.ban_seconds_left(["ban:pair:a"]) == 1.0
        # Keys of another prefix are not read.
        await raw.set(f"{link.prefix}:ban:pair:z", 1, px=90_000)
        assert await storage.ban_seconds_left(["ban:pair:z"]) == 0.0


async def test_a_key_without_expiry_is_no_ban() -> None:
    async with redis_link() as link:
        storage = RedisThrottleStorage(link)
        await link.client.set(storage.bridge.prefixed_key("ban:acct:x"), 1)
        assert await storage.ban_seconds_left(["ban:acct:x", "ban:addr:y"]) == 0.0
