"""A stranger cannot lock an owner out (issue 22 §3): the account limit binds only addresses
that have not signed in to the account within `known_address_days`; a known address is bound
by its own per-(account, address) limit. The conftest's limits: 3 failures per address, 5 per
account; the clock is frozen, and what is known follows it."""

from __future__ import annotations

from typing import Any

import pytest

from gatepass.core.ports import AuditQuery
from gatepass.observability.metrics import LOCKOUTS
from tests.conftest import PASSWORD
from tests.security.conftest import VICTIM_ADDRESS

DAY = 86400
STRANGERS = [f"192.0.2.{index}" for index in range(1, 51)]


async def login(client_from, address: str, password: str, username: str = "alice"):
    async with client_from(address) as http:
        return await http.post("/auth/login", json={"username": username, "password": password})


async def strangers_attack(client_from, addresses=STRANGERS) -> list[int]:
    """One wrong password from each address; their statuses."""
    return [(await login(client_from, address, "guess")).status_code for address in addresses]


def answer(response) -> tuple[int, Any, bool]:
    return response.status_code, response.json(), "retry-after" in response.headers


def lockouts_counted() -> dict[str, float]:
    kinds = ("account", "address", "known_address")
    return {kind: LOCKOUTS.labels(kind)._value.get() for kind in kinds}


async def test_an_owner_at_a_known_address_logs_in_while_fifty_strangers_lock_the_account(
    client_from, runtime, hash_calls
):
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    before = lockouts_counted()
    hashed = len(hash_calls)

    # 50 strangers, one wrong password each: the fifth trips the account limit, and the other
    # 45 are refused before any hashing.
    assert await strangers_attack(client_from) == [401] * 5 + [429] * 45
    assert len(hash_calls) - hashed == 5

    # The owner, from the address they signed in from, still gets in; on a dialect too.
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    async with client_from(VICTIM_ADDRESS) as http:
        datarhei = await http.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert datarhei.status_code == 200

    # A new address is refused even with the right password, with exactly the answer a wrong
    # password gets: nothing tells whether the password was right.
    right = await login(client_from, "203.0.113.1", PASSWORD)
    wrong = await login(client_from, "203.0.113.2", "guess")
    assert answer(right) == answer(wrong)
    assert answer(right) == (
        429,
        {"error": "rate_limited", "error_description": "too many failed attempts; try again later"},
        True,
    )

    # Tripping the account limit is one audit event and one metric sample, once.
    lockouts = await runtime.storage.audit.query(AuditQuery(event="login.lockout"))
    assert [
        (e.outcome, e.actor, e.target, e.ip, e.details["kind"], e.details["seconds"])
        for e in lockouts
    ] == [("failure", "alice", "account:alice", STRANGERS[4], "account", 300)]
    after = lockouts_counted()
    assert {kind: after[kind] - before[kind] for kind in after} == {
        "account": 1,
        "address": 0,
        "known_address": 0,
    }
    async with client_from(VICTIM_ADDRESS) as http:
        scraped = (await http.get("/metrics")).text
    assert f'gatepass_login_lockouts_total{{kind="account"}} {after["account"]}' in scraped


async def test_a_known_address_is_still_bound_by_its_own_limit(client_from, runtime):
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    statuses = [
        (await login(client_from, VICTIM_ADDRESS, f"typo{i}")).status_code for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    banned = await login(client_from, VICTIM_ADDRESS, PASSWORD)
    assert banned.status_code == 429
    assert int(banned.headers["retry-after"]) == 300
    lockouts = await runtime.storage.audit.query(AuditQuery(event="login.lockout"))
    assert [(e.target, e.details["kind"]) for e in lockouts] == [(VICTIM_ADDRESS, "known_address")]
    # Only that address, for that account: the owner's typos never counted against the
    # account, and the address may still sign in to other accounts.
    assert (await login(client_from, "203.0.113.7", PASSWORD)).status_code == 200
    await runtime.admin.add_user("bob", password=PASSWORD, scopes=["read"], actor="test")
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD, "bob")).status_code == 200


async def test_ipv6_addresses_count_by_their_64_network(client_from, runtime):
    # The owner's address changes within its /64 (privacy extensions): still known.
    assert (await login(client_from, "2001:db8:1:2::10", PASSWORD)).status_code == 200
    assert await strangers_attack(client_from, STRANGERS[:6]) == [401] * 5 + [429]
    assert (await login(client_from, "2001:db8:1:2:aaaa::77", PASSWORD)).status_code == 200
    assert (await login(client_from, "2001:db8:1:3::10", PASSWORD)).status_code == 429

    # An attacker rotating through one /64 is one address to the address limit.
    await runtime.admin.add_user("bob", password=PASSWORD, scopes=["read"], actor="test")
    statuses = [
        (await login(client_from, f"2001:db8:bad:1::{host}", "guess", "bob")).status_code
        for host in range(1, 5)
    ]
    assert statuses == [401, 401, 401, 429]
    lockouts = await runtime.storage.audit.query(AuditQuery(event="login.lockout"))
    assert ("2001:db8:bad:1::/64", "address") in [(e.target, e.details["kind"]) for e in lockouts]


async def test_an_address_is_forgotten_known_address_days_after_its_last_sign_in(
    client_from, runtime, clock
):
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    clock.advance(30 * DAY - 60)
    await strangers_attack(client_from, STRANGERS[:5])
    # Still known at 30 days less a minute; this sign-in renews it for another 30 days.
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    clock.advance(30 * DAY - 60)
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    clock.advance(30 * DAY + 1)
    # Not seen for more than 30 days: a stranger again, refused while the account is locked.
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 429
    report = await runtime.purge()
    assert report.known_addresses == 1


@pytest.mark.parametrize(
    ("overrides", "after", "status"),
    [
        ({"known_address_days": 1}, DAY - 1, 200),
        ({"known_address_days": 1}, DAY + 1, 429),
        ({"known_address_days": 0}, 0, 429),  # no address is ever known: the old rule
    ],
)
async def test_known_address_days_is_the_setting(client_from, clock, overrides, after, status):
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    clock.advance(after)
    await strangers_attack(client_from, STRANGERS[:5])
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == status


async def test_a_known_address_does_not_reset_the_strangers_count(client_from):
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    assert await strangers_attack(client_from, STRANGERS[:4]) == [401] * 4
    assert (await login(client_from, VICTIM_ADDRESS, PASSWORD)).status_code == 200
    # Still 4 counted: the fifth stranger trips the account limit.
    assert await strangers_attack(client_from, STRANGERS[4:6]) == [401, 429]
