"""Every security event leaves an audit record with actor, target, address and time."""

from __future__ import annotations

import pytest

from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from tests.conftest import PASSWORD
from tests.security.conftest import ATTACKER, VICTIM_ADDRESS


@pytest.fixture
def overrides():
    return {"login_failures_per_address": 2}


async def test_security_events_are_audited(client_from, runtime, clock):
    async with client_from(ATTACKER) as attacker:
        for _ in range(2):
            await attacker.post("/auth/login", json={"username": "alice", "password": "guess"})
    async with client_from(VICTIM_ADDRESS) as client:
        tokens = (
            await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        ).json()
        await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        second = (
            await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
        ).json()
        await client.post(
            "/auth/logout", headers={"Authorization": f"Bearer {second['access_token']}"}
        )
    third = await runtime.auth.login_password(
        "alice", PASSWORD, scope=None, profile="native", ctx=RequestContext(ip=VICTIM_ADDRESS)
    )
    assert third.session is not None
    await runtime.admin.revoke_session(third.session.id, actor="cli:ops")
    await runtime.admin.rotate_signing_key(actor="cli:ops")
    await runtime.admin.set_user_disabled("alice", True, actor="cli:ops")

    events = list(reversed(await runtime.storage.audit.query(AuditQuery(limit=200))))
    seen = [(e.event, e.outcome) for e in events]
    for expected in [
        ("login", "failure"),
        ("login.lockout", "failure"),
        ("login", "success"),
        ("token.refresh", "success"),
        ("token.refresh_reuse", "failure"),
        ("session.logout", "success"),
        ("session.revoke", "success"),
        ("key.rotate", "success"),
        ("admin.user.disable", "success"),
    ]:
        assert expected in seen, expected
    by_event = {e.event: e for e in events}
    failure = next(e for e in events if e.event == "login" and e.outcome == "failure")
    assert (failure.actor, failure.ip, failure.at) == ("alice", ATTACKER, clock.now())
    assert (by_event["login.lockout"].target, by_event["login.lockout"].ip) == (ATTACKER, ATTACKER)
    assert by_event["token.refresh_reuse"].ip == VICTIM_ADDRESS
    assert by_event["token.refresh_reuse"].target == "alice"
    assert (by_event["session.revoke"].actor, by_event["session.revoke"].target) == (
        "cli:ops",
        "alice",
    )
    assert by_event["key.rotate"].actor == "cli:ops"
    assert (by_event["admin.user.disable"].actor, by_event["admin.user.disable"].target) == (
        "cli:ops",
        "alice",
    )
    assert all(e.at > 0 for e in events)
