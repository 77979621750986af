"""The key set cache of gatepass.jose: its refetch bound, shared fetches, and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from gatepass.core.clock import FrozenClock
from gatepass.jose.keyset import KeySetCache
from tests.jose.forge import NOW


class Outage(Exception):
    pass


class Issuer:
    """A key set the test controls, counting fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {"k1": "key one"}
        self.fetches = 0
        self.down = False
        self.delay = 0.0

    async def fetch(self) -> Mapping[str, str]:
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise Outage()
        return dict(self.keys)


def cache(issuer: Issuer, clock: FrozenClock, *, keep: bool) -> KeySetCache[str]:
    return KeySetCache(
        issuer.fetch,
        clock=clock.now,
        max_age=300,
        refetch_interval=10,
        keep_last_good_on=(Outage,) if keep else (),
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


async def test_keys_are_fetched_once_then_after_max_age(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    assert await keys.key("k1") == "key one"
    clock.advance(299)
    assert await keys.key("k1") == "key one"
    assert issuer.fetches == 1
    clock.advance(1)
    assert await keys.key("k1") == "key one"
    assert issuer.fetches == 2


async def test_unknown_kids_cost_at_most_one_fetch_per_interval(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    await keys.key("k1")
    for index in range(50):
        assert await keys.key(f"junk-{index}") is None
    assert issuer.fetches == 1
    clock.advance(10)
    issuer.keys["k2"] = "key two"  # a rotation
    assert await keys.key("k2") == "key two"
    assert await keys.key("junk") is None
    assert issuer.fetches == 2


async def test_without_a_kid_only_a_one_key_set_answers(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    assert await keys.key(None) == "key one"
    issuer.keys["k2"] = "key two"
    clock.advance(300)
    assert await keys.key(None) is None


async def test_concurrent_callers_share_one_fetch(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    issuer.delay = 0.01
    found = await asyncio.gather(*(keys.key("k1") for _ in range(20)))
    assert found == ["key one"] * 20
    assert issuer.fetches == 1


async def test_keeping_the_last_good_set_through_an_outage(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    await keys.key("k1")
    issuer.down = True
    clock.advance(300)
    assert await keys.key("k1") == "key one"  # stale, but the last good set
    assert await keys.key("k1") == "key one"
    assert issuer.fetches == 2  # the failure is not retried within the interval
    clock.advance(10)
    issuer.down = False
    assert await keys.key("k1") == "key one"
    assert issuer.fetches == 3


async def test_nothing_fetched_yet_and_down_is_no_set(issuer, clock):
    keys = cache(issuer, clock, keep=True)
    issuer.down = True
    assert await keys.key("k1") is None
    assert keys.keys is None


async def test_failing_closed_raises_and_retries_at_once(issuer, clock):
    keys = cache(issuer, clock, keep=False)
    await keys.key("k1")
    issuer.down = True
    clock.advance(300)
    with pytest.raises(Outage):
        await keys.key("k1")  # no set older than max_age is trusted
    with pytest.raises(Outage):
        await keys.key("k1")  # a failure does not count: the next caller tries again
    assert issuer.fetches == 3
    issuer.down = False
    assert await keys.key("k1") == "key one"
