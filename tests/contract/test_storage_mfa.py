"""Storage contract for second factors (migration 0008), on SQLite and PostgreSQL: every
single-use guard (TOTP step, recovery code, mfa_token) lets exactly one of racing callers win."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gatepass.core.mfa.models import ChallengePurpose, MfaChallenge, OrgMfaPolicy, TotpFactor
from gatepass.core.models import Org
from tests.contract.test_storage import NOW, session, user

DIGESTS = [f"{i:064x}" for i in range(10)]


async def test_totp_factor_lifecycle(storage):
    alice = user("alice")
    await storage.add_user(alice)
    assert await storage.get_totp(alice.id) is None
    pending = TotpFactor(alice.id, b"\x00sealed\xff", created_at=NOW)
    await storage.put_totp(pending)
    assert await storage.get_totp(alice.id) == pending
    assert await storage.confirmed_factor_kinds(alice.id) == set()
    replaced = replace(pending, secret_sealed=b"other")
    await storage.put_totp(replaced)  # an unconfirmed one is replaced
    assert await storage.get_totp(alice.id) == replaced
    assert await storage.confirm_totp(alice.id, 100, NOW + 1, DIGESTS) is True
    assert await storage.confirm_totp(alice.id, 101, NOW + 2, DIGESTS) is False  # done already
    confirmed = await storage.get_totp(alice.id)
    assert confirmed == replace(replaced, confirmed_at=NOW + 1, last_step=100)
    assert await storage.confirmed_factor_kinds(alice.id) == {"totp"}
    assert await storage.unused_recovery_codes(alice.id) == 10
    assert await storage.delete_factors(alice.id) == ["totp"]
    assert await storage.get_totp(alice.id) is None
    assert await storage.unused_recovery_codes(alice.id) == 0
    assert await storage.delete_totp(alice.id) is False


async def test_a_totp_step_is_used_once_and_only_forward(storage):
    alice = user("alice")
    await storage.add_user(alice)
    await storage.put_totp(TotpFactor(alice.id, b"s", created_at=NOW))
    assert await storage.use_totp_step(alice.id, 5) is False  # not confirmed yet
    await storage.confirm_totp(alice.id, 10, NOW, DIGESTS)
    assert await storage.use_totp_step(alice.id, 10) is False  # the confirming step
    wins = await asyncio.gather(*(storage.use_totp_step(alice.id, 11) for _ in range(5)))
    assert sorted(wins) == [False] * 4 + [True]
    assert await storage.use_totp_step(alice.id, 9) is False


async def test_a_recovery_code_is_used_once(storage):
    alice = user("alice")
    await storage.add_user(alice)
    await storage.put_totp(TotpFactor(alice.id, b"s", created_at=NOW))
    await storage.confirm_totp(alice.id, 1, NOW, DIGESTS)
    wins = await asyncio.gather(
        *(storage.use_recovery_code(alice.id, DIGESTS[3], NOW) for _ in range(5))
    )
    assert sorted(wins) == [False] * 4 + [True]
    assert await storage.unused_recovery_codes(alice.id) == 9
    assert await storage.use_recovery_code(alice.id, "f" * 64, NOW) is False
    bob = user("bob")
    await storage.add_user(bob)
    assert await storage.use_recovery_code(bob.id, DIGESTS[4], NOW) is False  # alice's code


async def test_an_mfa_challenge_is_consumed_once_and_purged_when_expired(storage):
    alice = user("alice")
    await storage.add_user(alice)
    challenge = MfaChallenge(
        digest="a" * 64,
        user_id=alice.id,
        purpose=ChallengePurpose.LOGIN,
        profile="native",
        password_digest="b" * 64,
        created_at=NOW,
        expires_at=NOW + 300,
        scope="docs:read",
        resources=("https://api.example.com",),
        oauth_client=None,
    )
    await storage.add_mfa_challenge(challenge)
    await storage.add_mfa_challenge(replace(challenge, digest="c" * 64, expires_at=NOW + 10))
    assert await storage.get_mfa_challenge("a" * 64) == challenge
    wins = await asyncio.gather(*(storage.consume_mfa_challenge("a" * 64) for _ in range(5)))
    assert sorted(wins) == [False] * 4 + [True]
    assert await storage.get_mfa_challenge("a" * 64) is None
    assert await storage.purge_mfa_challenges(NOW + 5) == 0
    assert await storage.purge_mfa_challenges(NOW + 10) == 1


async def test_org_mfa_policy_defaults_and_round_trip(storage):
    await storage.add_org(Org("acme", "Acme", NOW))
    assert await storage.get_org_mfa_policy("acme") == OrgMfaPolicy("acme")
    await storage.set_org_mfa_policy(OrgMfaPolicy("acme", True, False))
    await storage.set_org_mfa_policy(OrgMfaPolicy("acme", True, True))
    assert await storage.get_org_mfa_policy("acme") == OrgMfaPolicy("acme", True, True)
    assert await storage.delete_org("acme") is True  # the policy goes with it
    assert await storage.get_org_mfa_policy("acme") == OrgMfaPolicy("acme")


async def test_a_sessions_amr_round_trips(storage):
    strong, plain = session(amr=("mfa", "otp", "pwd")), session()
    for item in (strong, plain):
        await storage.create_session(item)
    assert await storage.get_session(strong.id) == strong
    assert await storage.get_session(plain.id) == plain
    assert plain.amr == ()
