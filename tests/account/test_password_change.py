"""`POST /auth/password/change` (issue 18): the current password is required and its failures
are throttled as logins are, the new one goes through the policy, and `end_other_sessions`
ends every other session (and browser sign-in, tests/oidc/test_ending_signins.py) while the
caller's own session goes on."""

from __future__ import annotations

import httpx

from gatepass.app.container import Container
from tests.conftest import PASSWORD, UserFactory

NEW = "a brand new passphrase"


async def login(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/login", json={"username": "chg", "password": password})


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await login(client)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def change(
    client: httpx.AsyncClient, headers: dict[str, str], current: str, new: str, **extra: object
) -> httpx.Response:
    return await client.post(
        "/auth/password/change",
        headers=headers,
        json={"current_password": current, "new_password": new, **extra},
    )


async def alive(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await client.get("/auth/me", headers=headers)).status_code == 200


async def test_a_wrong_current_password_changes_nothing(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("chg")
    headers = await bearer(client)
    wrong = await change(client, headers, "not the password", NEW)
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "invalid_credentials",
        "error_description": "invalid credentials",
    }
    assert (await login(client)).status_code == 200
    assert (await login(client, NEW)).status_code == 401


async def test_wrong_current_passwords_are_throttled(
    client: httpx.AsyncClient, make_user: UserFactory, runtime: Container
) -> None:
    await make_user("chg")
    headers = await bearer(client)
    for _ in range(runtime.settings.login_failures_per_address):
        assert (await change(client, headers, "not the password", NEW)).status_code == 401
    blocked = await change(client, headers, PASSWORD, NEW)
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) > 0
    # Even the right password waits: nothing changed.
    assert (await login(client, NEW)).status_code == 401
    assert (await login(client)).status_code == 200


async def test_the_new_password_goes_through_the_policy(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("chg")
    headers = await bearer(client)
    for weak in ("short", "password123", "chg"):
        refused = await change(client, headers, PASSWORD, weak)
        assert refused.status_code == 400, weak
        assert refused.json()["error"] == "invalid_request"
    common = await change(client, headers, PASSWORD, "password123")
    assert common.json()["reason"] == "weak_password"
    assert (await login(client)).status_code == 200


async def test_end_other_sessions_keeps_only_the_callers(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("chg")
    others = [await bearer(client), await bearer(client)]
    mine = await bearer(client)
    changed = await change(client, mine, PASSWORD, NEW, end_other_sessions=True)
    assert (changed.status_code, changed.json()) == (
        200,
        {"status": "changed", "sessions_ended": 2, "browser_sessions_ended": 0},
    )
    assert [await alive(client, h) for h in others] == [False, False]
    assert await alive(client, mine)
    assert (await login(client)).status_code == 401
    assert (await login(client, NEW)).status_code == 200


async def test_without_end_other_sessions_the_others_go_on(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("chg")
    other = await bearer(client)
    mine = await bearer(client)
    changed = await change(client, mine, PASSWORD, NEW)
    assert changed.json() == {"status": "changed", "sessions_ended": 0, "browser_sessions_ended": 0}
    assert await alive(client, other)


async def test_a_client_token_cannot_change_a_password(
    client: httpx.AsyncClient, make_client: object
) -> None:
    created = await make_client("svc")  # type: ignore[operator]
    login_answer = await client.post(
        "/auth/login",
        json={"client_id": created.client.client_id, "client_secret": created.client_secret},
    )
    headers = {"Authorization": f"Bearer {login_answer.json()['access_token']}"}
    refused = await change(client, headers, PASSWORD, NEW)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert (await change(client, {}, PASSWORD, NEW)).status_code == 401
