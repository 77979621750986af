"""The denylist contract, over every implementation."""

from __future__ import annotations

from tests.contract.conftest import DENY_NOW as NOW


async def test_revoked_until_expiry(denylist):
    await denylist.revoke("sid:1", NOW + 60)
    assert await denylist.any_revoked(["jti:x", "sid:1"], NOW, NOW - 5)
    assert not await denylist.any_revoked(["jti:x", "sid:2"], NOW, NOW - 5)
    assert not await denylist.any_revoked(["sid:1"], NOW + 60, NOW - 5)


async def test_revoking_again_extends_but_never_shortens(denylist):
    await denylist.revoke("sid:1", NOW + 60)
    await denylist.revoke("sid:1", NOW + 10)
    assert await denylist.any_revoked(["sid:1"], NOW + 30, NOW)
    await denylist.revoke("sid:1", NOW + 120)
    assert await denylist.any_revoked(["sid:1"], NOW + 90, NOW)


async def test_issued_before_covers_only_older_tokens(denylist):
    await denylist.revoke("client:c", NOW + 60, issued_before=NOW)
    assert await denylist.any_revoked(["client:c"], NOW + 1, NOW - 0.5)
    assert not await denylist.any_revoked(["client:c"], NOW + 1, NOW)
    assert not await denylist.any_revoked(["client:c"], NOW + 1, NOW + 0.5)
    await denylist.revoke("client:c", NOW + 60, issued_before=NOW + 5)
    assert await denylist.any_revoked(["client:c"], NOW + 6, NOW + 4)


async def test_a_full_revocation_beats_a_cutoff(denylist):
    await denylist.revoke("client:c", NOW + 60, issued_before=NOW)
    await denylist.revoke("client:c", NOW + 60)
    assert await denylist.any_revoked(["client:c"], NOW + 1, NOW + 30)


async def test_purge_removes_only_expired_entries_in_batches(denylist):
    for index in range(5):
        await denylist.revoke(f"jti:{index}", NOW + index)
    # Entries 0..3 have expired at NOW + 3 (an entry lives while its time is in the future).
    assert await denylist.purge(NOW + 3, batch=3) == 3
    assert await denylist.purge(NOW + 3, batch=3) == 1
    assert await denylist.purge(NOW + 3, batch=3) == 0
    assert await denylist.any_revoked(["jti:4"], NOW + 3, NOW)
