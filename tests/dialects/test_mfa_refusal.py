"""Dialects cannot carry a second factor (issue 18): an MFA user's password login through any
dialect gets that dialect's own wrong-credentials answer, unless the user's org allows
password-only dialect logins; machine credentials (API clients, API keys) are never asked."""

from __future__ import annotations

import pytest

from gatepass.config import ALL_DIALECTS
from gatepass.core.mfa.models import OrgMfaPolicy
from tests.conftest import PASSWORD
from tests.dialects.test_scenarios import SURFACES, same, xpay_login
from tests.mfa.helpers import confirmed_factor

BY_NAME = {surface.name: surface for surface in SURFACES}
DIALECTS = [BY_NAME[name] for name in ALL_DIALECTS]  # the registry's, every one
# osais logs in API clients only (machine credentials): no user of it can hold a factor.
CLIENT_ONLY = {"osais"}
USER_DIALECTS = [BY_NAME[name] for name in ALL_DIALECTS if name not in CLIENT_ONLY]


def test_every_dialect_is_covered():
    """The tests below run over the dialect registry itself: a new dialect without a login
    scenario fails here (and at import, through BY_NAME)."""
    assert sorted(surface.name for surface in SURFACES if surface.name != "native") == sorted(
        ALL_DIALECTS
    )
    assert set(ALL_DIALECTS) >= CLIENT_ONLY


@pytest.mark.parametrize("surface", USER_DIALECTS, ids=lambda s: s.name)
async def test_an_mfa_users_password_login_gets_the_dialects_own_refusal(
    client, world, surface, clock
):
    user = await world.runtime.admin.get_user(surface.user)
    await confirmed_factor(world.runtime, clock, user.username)
    response = await surface.login(client, world, surface.user, PASSWORD)
    assert response.status_code == surface.refused[0]
    assert same(response.json(), surface.refused[1])
    # The same answer as a wrong password: the refusal tells nothing more.
    wrong = await surface.login(client, world, surface.user, "wrong password")
    assert (wrong.status_code, wrong.json().keys()) == (
        response.status_code,
        response.json().keys(),
    )


@pytest.mark.parametrize("surface", USER_DIALECTS, ids=lambda s: s.name)
async def test_the_org_can_allow_password_only_dialect_logins(client, world, surface, clock):
    runtime = world.runtime
    user = await runtime.admin.get_user(surface.user)
    if user.org_uid is None:
        await runtime.admin.add_org("dialect-org", None, actor="test")
        await runtime.admin.update_user(user.username, org="dialect-org", actor="test")
        user = await runtime.admin.get_user(surface.user)
    await confirmed_factor(runtime, clock, user.username)
    assert user.org_uid is not None
    await runtime.admin.mfa.set_org_policy(user.org_uid, dialects_without_mfa=True, actor="test")
    assert (await surface.login(client, world, surface.user, PASSWORD)).status_code == (
        surface.ok_status
    )


@pytest.mark.parametrize("surface", USER_DIALECTS, ids=lambda s: s.name)
async def test_require_mfa_refuses_a_user_without_a_factor_on_every_dialect(client, world, surface):
    runtime = world.runtime
    user = await runtime.admin.get_user(surface.user)
    if user.org_uid is None:
        await runtime.admin.add_org("strict", None, actor="test")
        await runtime.admin.update_user(user.username, org="strict", actor="test")
        user = await runtime.admin.get_user(surface.user)
    assert user.org_uid is not None
    await runtime.storage.set_org_mfa_policy(OrgMfaPolicy(user.org_uid, require_mfa=True))
    response = await surface.login(client, world, surface.user, PASSWORD)
    assert response.status_code == surface.refused[0]
    assert same(response.json(), surface.refused[1])


async def test_osais_clients_are_not_asked_even_in_an_org_requiring_mfa(client, world):
    osais = next(surface for surface in DIALECTS if surface.name == "osais")
    await world.runtime.admin.add_org("machines", None, actor="test")
    await world.runtime.storage.set_org_mfa_policy(OrgMfaPolicy("machines", require_mfa=True))
    await world.runtime.admin.update_client(osais.user, org="machines", actor="test")
    response = await osais.login(client, world, osais.user, PASSWORD)
    assert response.status_code == osais.ok_status


async def test_xpay_api_keys_are_not_asked(client, world, clock):
    await confirmed_factor(world.runtime, clock, "payer")
    response = await client.post(
        "/client/authenticate",
        json={"username": "payer", "secretKey": world.xpay_api_key, "isAPI": True},
    )
    assert response.status_code == 200
    assert "success" in response.json()
    refused = await xpay_login(client, world, "payer", PASSWORD)
    assert refused.json()["error"]["message"] == "invalid credentials"


async def test_unduit_api_clients_are_not_asked(client, world):
    await world.runtime.storage.set_org_mfa_policy(OrgMfaPolicy("acme", require_mfa=True))
    response = await client.post(
        "/api/v1/auth/login",
        json={"client_id": world.unduit_client_id, "client_secret": world.unduit_client_secret},
    )
    assert response.status_code == 200
