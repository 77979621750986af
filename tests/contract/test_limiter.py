"""The login limiter contract: the same tests over in-process memory, SQLite, PostgreSQL and
Redis. The limits storages keep wall-clock expiries, so bans here last one or two real
seconds (LIMITER_POLICY: 3 failures per address, 5 per account, ban 1 s, longest ban 4 s)."""

from __future__ import annotations

import asyncio

import pytest

from gatepass.core.errors import RateLimited


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


async def test_the_account_limit_bans_the_account_from_every_address(limiters):
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
    await limiter.success("account:alice")
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
