"""Shared steps of the MFA tests: enrol a user's authenticator over the native API."""

from __future__ import annotations

from typing import Any

import httpx

from gatepass.core.clock import FrozenClock
from gatepass.core.mfa import totp
from tests.conftest import PASSWORD


async def tokens(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> Any:
    response = await client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def enrol(
    client: httpx.AsyncClient, clock: FrozenClock, username: str
) -> tuple[str, list[str]]:
    """Enrol and confirm TOTP for a user without a factor: (secret, recovery codes). The clock
    is moved one step on, so the confirming code is not the next login's (replay)."""
    access = (await tokens(client, username))["access_token"]
    started = await client.post("/auth/mfa/totp", headers=bearer(access))
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(
        "/auth/mfa/totp/confirm",
        headers=bearer(access),
        json={"code": totp.code_at(secret, clock.now())},
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(totp.PERIOD)
    return secret, confirmed.json()["recovery_codes"]


async def mfa_token(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "mfa_required"
    return str(response.json()["mfa_token"])


async def confirmed_factor(runtime: Any, clock: FrozenClock, username: str) -> str:
    """Give a user a confirmed TOTP authenticator through the core; its secret."""
    from gatepass.core.models import RequestContext

    mfa = runtime.auth.mfa
    user = await runtime.admin.get_user(username)
    ctx = RequestContext(surface="test")
    secret: str = (await mfa.begin_totp(user.id, ctx)).secret
    await mfa.confirm_totp(user.id, totp.code_at(secret, clock.now()), ctx)
    clock.advance(totp.PERIOD)
    return secret
