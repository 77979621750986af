"""The login limiter contract: the same tests over in-process memory, SQLite, PostgreSQL and
Redis. The limits storages keep wall-clock expiries, so bans here last one or two real
seconds (LIMITER_POLICY: 3 failures per address, 5 per account, ban 1 s, longest ban 4 s);
what is known follows the factory's frozen clock (known for 30 days)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from gatepass.adapters.redis import RedisKnownAddresses
from gatepass.adapters.throttle import address_key
from gatepass.core.errors import RateLimited
from tests.contract.conftest import LIMITER_POLICY

DAY = 86400
OWNER = "198.51.100.200"


async def refused_for(limiter, account, address) -> int | None:
    """The Retry-After a check gives, or None when the attempt may go ahead."""
    try:
        await limiter.check(account, address)
    except RateLimited as exc:
        return exc.retry_after
    return None


async def test_nothing_is_refused_at_first(limiters):
    limiter = limiters.make()
    assert await refused_for(limiter, "account:alice", "198.51.100.1") is None
    assert await refused_for(limiter, "account:alice", None) is None


async def test_the_address_limit_bans_the_address_only(limiters):
    limiter = limiters.make()
    for index in range(2):
        await limiter.failure(f"account:user{index}", "198.51.100.1")
    assert await refused_for(limiter, "account:anyone", "198.51.100.1") is None
    await limiter.failure("account:user2", "198.51.100.1")
    assert await refused_for(limiter, "account:anyone", "198.51.100.1") == 1
    assert await refused_for(limiter, "account:user0", "198.51.100.2") is None


async def test_the_account_limit_bans_the_account_from_every_unknown_address(limiters):
    limiter = limiters.make()
    for index in range(4):
        await limiter.failure("account:alice", f"198.51.100.{index}")
    assert await refused_for(limiter, "account:alice", "203.0.113.9") is None
    await limiter.failure("account:alice", "198.51.100.4")
    assert await refused_for(limiter, "account:alice", "203.0.113.9") == 1
    assert await refused_for(limiter, "account:alice", None) == 1
    assert await refused_for(limiter, "account:bob", "203.0.113.9") is None


async def test_a_success_clears_the_account_count(limiters):
    limiter = limiters.make()
    for index in range(4):
        await limiter.failure("account:alice", f"198.51.100.{index}")
    await limiter.success("account:alice", "203.0.113.8")
    for index in range(4):
        await limiter.failure("account:alice", f"198.51.100.{10 + index}")
    assert await refused_for(limiter, "account:alice", "203.0.113.9") is None


async def test_a_ban_ends_and_a_repeat_offender_is_banned_twice_as_long(limiters):
    limiter = limiters.make()
    for index in range(3):
        await limiter.failure(f"account:user{index}", "198.51.100.1")
    assert await refused_for(limiter, "account:x", "198.51.100.1") == 1
    await asyncio.sleep(1.1)
    assert await refused_for(limiter, "account:x", "198.51.100.1") is None
    for index in range(3):
        await limiter.failure(f"account:user{index}", "198.51.100.1")
    assert await refused_for(limiter, "account:x", "198.51.100.1") == 2


async def test_failures_from_every_process_count_together(shared_limiters):
    first, second = shared_limiters.make(), shared_limiters.make()
    await first.failure("account:a", "198.51.100.1")
    await second.failure("account:b", "198.51.100.1")
    assert await refused_for(first, "account:c", "198.51.100.1") is None
    await first.failure("account:c", "198.51.100.1")
    assert await refused_for(second, "account:d", "198.51.100.1") == 1
    assert await refused_for(first, "account:d", "198.51.100.1") == 1


async def test_racing_failures_are_all_counted(shared_limiters):
    first, second = shared_limiters.make(), shared_limiters.make()
    await asyncio.gather(
        first.failure("account:a", "198.51.100.7"), second.failure("account:b", "198.51.100.7")
    )
    assert await refused_for(first, "account:c", "198.51.100.7") is None
    await second.failure("account:c", "198.51.100.7")
    assert await refused_for(first, "account:c", "198.51.100.7") == 1


@pytest.mark.parametrize("amount", [1])
async def test_a_window_never_counts_past_its_limit(shared_limiters, amount):
    # Direct use of the moving window: of many concurrent acquisitions from two "processes",
    # exactly `limit` succeed.
    from limits import RateLimitItemPerMinute
    from limits.aio.strategies import MovingWindowRateLimiter

    first, second = shared_limiters.make(), shared_limiters.make()
    item = RateLimitItemPerMinute(4)
    windows = [MovingWindowRateLimiter(first._storage), MovingWindowRateLimiter(second._storage)]
    results = await asyncio.gather(
        *(windows[index % 2].hit(item, "race", cost=amount) for index in range(10))
    )
    assert sum(results) == 4


async def test_a_failure_reports_the_bans_it_imposes(limiters):
    limiter = limiters.make()
    reported = [await limiter.failure("account:zoe", "198.51.100.77") for _ in range(3)]
    assert reported[:2] == [[], []]
    assert [(lock.kind, lock.key) for lock in reported[2]] == [("address", "198.51.100.77")]
    assert reported[2][0].seconds >= 1


async def strangers_lock(limiter, account: str, count: int = 5) -> None:
    """`count` failures from as many unknown addresses: the account limit (5) is reached."""
    for index in range(count):
        await limiter.failure(account, f"192.0.2.{index + 1}")
    assert await refused_for(limiter, account, "192.0.2.250") == 1


async def test_a_known_address_is_not_bound_by_the_account_limit(limiters):
    limiter = limiters.make()
    await limiter.success("account:alice", OWNER)
    await strangers_lock(limiter, "account:alice")
    assert await refused_for(limiter, "account:alice", OWNER) is None
    # Known to alice only: for bob's account the address is a stranger like any other.
    await limiter.success("account:carol", "203.0.113.30")
    await strangers_lock(limiter, "account:bob")
    assert await refused_for(limiter, "account:bob", OWNER) == 1
    assert await refused_for(limiter, "account:bob", "203.0.113.30") == 1
    assert await refused_for(limiter, "account:bob", None) == 1


async def test_a_known_address_is_bound_by_its_own_limit_with_back_off(limiters):
    limiter = limiters.make()
    await limiter.success("account:alice", OWNER)
    reported = [await limiter.failure("account:alice", OWNER) for _ in range(3)]
    assert reported[:2] == [[], []]
    assert [(lock.kind, lock.key, lock.seconds) for lock in reported[2]] == [
        ("known_address", OWNER, 1)
    ]
    assert await refused_for(limiter, "account:alice", OWNER) == 1
    # Only the pair is banned: the address may try other accounts, and the owner's typos
    # never counted against the account.
    assert await refused_for(limiter, "account:bob", OWNER) is None
    assert await refused_for(limiter, "account:alice", "203.0.113.9") is None
    await asyncio.sleep(1.1)
    assert await refused_for(limiter, "account:alice", OWNER) is None
    reported = [await limiter.failure("account:alice", OWNER) for _ in range(3)]
    assert [(lock.kind, lock.seconds) for lock in reported[2]] == [("known_address", 2)]
    assert await refused_for(limiter, "account:alice", OWNER) == 2


async def test_a_known_address_does_not_reset_the_strangers_count(limiters):
    limiter = limiters.make()
    await limiter.success("account:alice", OWNER)
    for index in range(4):
        await limiter.failure("account:alice", f"192.0.2.{index + 1}")
    await limiter.success("account:alice", OWNER)
    await limiter.failure("account:alice", "192.0.2.5")
    assert await refused_for(limiter, "account:alice", "192.0.2.250") == 1


async def test_a_client_known_by_other_means_is_bound_by_its_own_limit(limiters):
    # The caller vouches for the client (a signed device cookie): its address is new.
    limiter = limiters.make()
    await strangers_lock(limiter, "account:alice")
    assert await refused_for(limiter, "account:alice", "203.0.113.50") == 1
    assert await limiter.check("account:alice", "203.0.113.50", known=True) is None
    for _ in range(2):
        assert await limiter.failure("account:alice", "203.0.113.50", known=True) == []
    [lockout] = await limiter.failure("account:alice", "203.0.113.50", known=True)
    assert (lockout.kind, lockout.key) == ("known_address", "203.0.113.50")
    with pytest.raises(RateLimited):
        await limiter.check("account:alice", "203.0.113.50", known=True)
    # Its success makes the address known as well.
    await limiter.success("account:carol", "203.0.113.51", known=True)
    await strangers_lock(limiter, "account:carol")
    assert await refused_for(limiter, "account:carol", "203.0.113.51") is None


async def test_ipv6_addresses_count_by_their_64_network(limiters):
    limiter = limiters.make()
    attacker = "2001:db8:bad:1::"
    for host in range(1, 3):
        assert await limiter.failure(f"account:user{host}", f"{attacker}{host}") == []
    [lockout] = await limiter.failure("account:user3", f"{attacker}3")
    assert (lockout.kind, lockout.key) == ("address", "2001:db8:bad:1::/64")
    assert await refused_for(limiter, "account:x", "2001:db8:bad:1:ffff:1:2:3") == 1
    assert await refused_for(limiter, "account:x", "2001:db8:bad:2::1") is None

    # An owner whose address changes within its /64 (privacy extensions) stays known.
    await limiter.success("account:alice", "2001:db8:1:2::10")
    await strangers_lock(limiter, "account:alice")
    assert await refused_for(limiter, "account:alice", "2001:db8:1:2:a:b:c:d") is None
    assert await refused_for(limiter, "account:alice", "2001:db8:1:3::10") == 1


def test_addresses_are_counted_as_ipv4_or_ipv6_64():
    assert address_key("198.51.100.7") == "198.51.100.7"
    assert address_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert address_key("2001:DB8:0:1:2:3:4:5") == "2001:db8:0:1::/64"
    assert address_key("fe80::1%eth0") == "fe80::/64"
    assert address_key("testclient") == "testclient"
    assert address_key("x" * 100) == "x" * 64
    assert address_key(None) is None


async def test_an_address_is_known_for_known_address_days_after_its_last_sign_in(limiters):
    limiter = limiters.make()
    clock = limiters.clock
    await limiter.success("account:alice", OWNER)
    await strangers_lock(limiter, "account:alice")
    clock.advance(30 * DAY - 60)
    assert await refused_for(limiter, "account:alice", OWNER) is None
    clock.advance(61)
    assert await refused_for(limiter, "account:alice", OWNER) == 1

    # Every sign-in renews the record (at most once an hour): day 20 keeps it until day 50.
    await limiter.success("account:bob", OWNER)
    clock.advance(20 * DAY)
    await limiter.success("account:bob", OWNER)
    clock.advance(29 * DAY)
    await strangers_lock(limiter, "account:bob")
    assert await refused_for(limiter, "account:bob", OWNER) is None
    clock.advance(DAY)
    assert await refused_for(limiter, "account:bob", OWNER) == 1


async def test_known_for_zero_knows_no_address(limiters):
    limiter = limiters.make(replace(LIMITER_POLICY, known_for=0))
    await limiter.success("account:alice", OWNER)
    await strangers_lock(limiter, "account:alice")
    assert await refused_for(limiter, "account:alice", OWNER) == 1


async def test_every_process_agrees_on_known_addresses(shared_limiters):
    first, second = shared_limiters.make(), shared_limiters.make()
    # The second process looks the owner's address up and finds it unknown (SQLite: and
    # remembers that answer)...
    assert await refused_for(second, "account:alice", OWNER) is None
    await first.success("account:alice", OWNER)
    await strangers_lock(second, "account:alice")
    # ...yet sees at once that the owner signed in through the first.
    assert await refused_for(second, "account:alice", OWNER) is None
    assert await refused_for(second, "account:alice", "203.0.113.9") == 1


async def test_known_addresses_keep_the_later_expiry_and_purge_only_expired_pairs(
    known_addresses,
):
    now = 1_900_000_000.0
    assert await known_addresses.known_until("account:a", OWNER) is None
    await known_addresses.remember("account:a", OWNER, now, 100)
    await known_addresses.remember("account:a", OWNER, now - 50, 100)  # a slower racer
    assert await known_addresses.known_until("account:a", OWNER) == now + 100
    await known_addresses.remember("account:a", OWNER, now + 10, 100)
    assert await known_addresses.known_until("account:a", OWNER) == now + 110
    assert await known_addresses.known_until("account:a", "192.0.2.1") is None
    assert await known_addresses.known_until("account:b", OWNER) is None
    for index in range(5):
        await known_addresses.remember("account:gone", f"192.0.2.{index}", now - 200, 100)
    removed = [await known_addresses.purge(now, 2) for _ in range(4)]
    if isinstance(known_addresses, RedisKnownAddresses):
        # Redis expires each pair by itself, with its lifetime: there is nothing to purge.
        assert removed == [0, 0, 0, 0]
        pttl = await known_addresses.link.client.pttl(known_addresses._key("account:a", OWNER))
        assert 99_000 < pttl <= 100_000
    else:
        assert removed == [2, 2, 1, 0]
        assert await known_addresses.known_until("account:gone", "192.0.2.0") is None
    assert await known_addresses.known_until("account:a", OWNER) == now + 110
