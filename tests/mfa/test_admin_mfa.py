"""The admin API's second-factor resource: a user's factors (shown, reset, audited) and an
organization's MFA policy."""

from __future__ import annotations

import pytest

from gatepass.core.ports import AuditQuery
from tests.api.test_admin_api import admin
from tests.mfa.helpers import confirmed_factor

__all__ = ["admin"]


async def test_reset_removes_a_users_factors_and_is_audited(
    client, admin, runtime, make_user, clock
):
    await make_user("alice")
    await confirmed_factor(runtime, clock, "alice")
    shown = await client.get("/admin/users/alice/mfa", headers=admin)
    assert shown.status_code == 200
    assert shown.json() == {"username": "alice", "factors": ["totp"], "recovery_codes_left": 10}
    reset = await client.delete("/admin/users/alice/mfa", headers=admin)
    assert reset.status_code == 200
    assert reset.json() == {"username": "alice", "removed": ["totp"]}
    after = await client.get("/admin/users/alice/mfa", headers=admin)
    assert after.json()["factors"] == []
    events = await runtime.storage.audit.query(AuditQuery(event="mfa.reset"))
    assert [(e.actor, e.target, e.surface) for e in events] == [("root", "alice", "admin")]
    # The password alone logs in again.
    login = await client.post(
        "/auth/login", json={"username": "alice", "password": "correct horse battery staple"}
    )
    assert login.status_code == 200


async def test_org_mfa_policy_round_trip(client, admin, runtime):
    await runtime.admin.add_org("acme", None, actor="test")
    default = await client.get("/admin/orgs/acme/mfa", headers=admin)
    assert default.json() == {"uid": "acme", "require_mfa": False, "dialects_without_mfa": False}
    changed = await client.patch("/admin/orgs/acme/mfa", headers=admin, json={"require_mfa": True})
    assert changed.status_code == 200
    assert changed.json() == {"uid": "acme", "require_mfa": True, "dialects_without_mfa": False}
    events = await runtime.storage.audit.query(AuditQuery(event="admin.org.mfa"))
    assert [(e.actor, e.target) for e in events] == [("root", "acme")]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/users/ghost/mfa", None),
        ("DELETE", "/admin/users/ghost/mfa", None),
        ("GET", "/admin/orgs/ghost/mfa", None),
        ("PATCH", "/admin/orgs/ghost/mfa", {"require_mfa": True}),
    ],
)
async def test_unknown_user_or_org_is_404(client, admin, method, path, body):
    response = await client.request(method, path, headers=admin, json=body)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_bad_policy_bodies_are_400(client, admin, runtime):
    await runtime.admin.add_org("acme", None, actor="test")
    for body in ({"require_mfa": "yes"}, {"require_mfa": True, "typo": 1}):
        response = await client.patch("/admin/orgs/acme/mfa", headers=admin, json=body)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


async def test_mfa_resources_need_the_admin_scope(client, make_user):
    await make_user("bob")
    login = await client.post(
        "/auth/login", json={"username": "bob", "password": "correct horse battery staple"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    response = await client.delete("/admin/users/bob/mfa", headers=headers)
    assert response.status_code == 403
