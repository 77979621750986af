"""Password reset by mail over the native API, with a real SMTP server: the answer never tells
whether an address is known, the link works once and for 30 minutes, only its digest is
stored, and completing it ends every session."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from gatepass.adapters.sql import tables as t
from gatepass.app.container import Container
from gatepass.core.clock import FrozenClock
from gatepass.core.ports import AuditQuery
from tests.account.smtp import Mailbox, link_of, link_token, text_of
from tests.conftest import PASSWORD, UserFactory

NEW_PASSWORD = "a brand new passphrase"
ANSWER = {
    "status": "accepted",
    "message": "If an account has this address, a link to reset its password is on its way.",
}


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/login", json={"username": username, "password": password})


async def forgot(client: httpx.AsyncClient, runtime: Container, email: str) -> httpx.Response:
    answer = await client.post("/auth/password/forgot", json={"email": email})
    await runtime.account.background.drain()
    return answer


async def events(runtime: Container, name: str) -> list[Any]:
    await runtime.storage.audit.flush()
    return await runtime.storage.audit.query(AuditQuery(event=name))


async def test_a_known_and_an_unknown_address_get_the_same_answer(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-a", email="Reset-A@example.test")
    known = await forgot(client, runtime, "reset-a@example.test")
    unknown = await forgot(client, runtime, "nobody-here@example.test")
    assert (known.status_code, known.json()) == (202, ANSWER)
    assert (unknown.status_code, unknown.json()) == (202, ANSWER)
    assert known.headers["cache-control"] == unknown.headers["cache-control"] == "no-store"
    # Mail goes to the address the account has, and only to it.
    [message] = mailbox.wait_for("Reset-A@example.test")
    assert mailbox.to("nobody-here@example.test") == []
    assert link_of(message).startswith("http://testserver/account/reset?token=")
    assert "within 30 minutes" in text_of(message)
    outcomes = [
        (e.outcome, e.details.get("reason"))
        for e in await events(runtime, "password.reset_request")
    ]
    assert sorted(outcomes, key=str) == sorted(
        [("success", None), ("failure", "unknown_address")], key=str
    )


async def test_a_username_is_not_an_address(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    # find_user matches usernames too: an account named like someone's address must not
    # receive that address's reset link.
    await make_user("victim@example.test", email="other-inbox@example.test")
    answer = await forgot(client, runtime, "victim@example.test")
    assert (answer.status_code, answer.json()) == (202, ANSWER)
    assert mailbox.to("other-inbox@example.test") == []


async def test_the_link_sets_a_new_password_once_and_ends_every_session(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-b", email="reset-b@example.test")
    before = (await login(client, "reset-b", PASSWORD)).json()
    await forgot(client, runtime, "reset-b@example.test")
    token = link_token(mailbox.wait_for("reset-b@example.test")[0])

    done = await client.post(
        "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (done.status_code, done.content) == (204, b"")

    # The old password no longer works, the new one does; the old session is over.
    assert (await login(client, "reset-b", PASSWORD)).status_code == 401
    assert (await login(client, "reset-b", NEW_PASSWORD)).status_code == 200
    refresh = await client.post("/auth/refresh", json={"refresh_token": before["refresh_token"]})
    assert refresh.status_code == 401
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {before['access_token']}"})
    assert me.status_code == 401

    again = await client.post(
        "/auth/password/reset", json={"token": token, "password": "yet another passphrase"}
    )
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_request",
        "error_description": "the link is invalid, has been used or has expired",
        "reason": "invalid_link",
    }
    [success] = [e for e in await events(runtime, "password.reset") if e.outcome == "success"]
    assert (success.actor, success.details["sessions"]) == ("reset-b", 1)


async def test_following_the_link_verifies_the_address(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-v", email="reset-v@example.test")
    await forgot(client, runtime, "reset-v@example.test")
    token = link_token(mailbox.wait_for("reset-v@example.test")[0])
    await client.post("/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    tokens = (await login(client, "reset-v", NEW_PASSWORD)).json()
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert (me.json()["email"], me.json()["email_verified"]) == ("reset-v@example.test", True)
    claims = (await runtime.auth.verify_signature(tokens["access_token"])).claims
    assert (claims["email"], claims["email_verified"]) == ("reset-v@example.test", True)


async def test_a_link_expires_after_30_minutes(
    client: httpx.AsyncClient,
    runtime: Container,
    make_user: UserFactory,
    mailbox: Mailbox,
    clock: FrozenClock,
) -> None:
    await make_user("reset-c", email="reset-c@example.test")
    await forgot(client, runtime, "reset-c@example.test")
    token = link_token(mailbox.wait_for("reset-c@example.test")[0])
    clock.advance(30 * 60 + 1)
    late = await client.post(
        "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (late.status_code, late.json()["reason"]) == (400, "invalid_link")
    assert (await login(client, "reset-c", PASSWORD)).status_code == 200


async def test_only_a_digest_of_the_link_is_stored(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-d", email="reset-d@example.test")
    await forgot(client, runtime, "reset-d@example.test")
    token = link_token(mailbox.wait_for("reset-d@example.test")[0])
    async with runtime.storage.engine.connect() as conn:
        rows = (await conn.execute(sa.select(t.account_tokens))).all()
    assert len(rows) == 1
    assert token not in repr(tuple(rows[0]))
    assert rows[0].digest == runtime.account.links.digester.digest(token)
    assert rows[0].expires_at - rows[0].created_at == 1800


async def test_a_reset_link_is_no_invitation_or_verification_link(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-e", email="reset-e@example.test")
    await forgot(client, runtime, "reset-e@example.test")
    token = link_token(mailbox.wait_for("reset-e@example.test")[0])
    accept = await client.post(
        "/auth/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
    )
    verify = await client.post("/auth/email/verify", json={"token": token})
    assert (accept.status_code, verify.status_code) == (400, 400)
    # Still good for what it is.
    done = await client.post(
        "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204


async def test_a_short_password_keeps_the_link_usable(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-f", email="reset-f@example.test")
    await forgot(client, runtime, "reset-f@example.test")
    token = link_token(mailbox.wait_for("reset-f@example.test")[0])
    common = await client.post(
        "/auth/password/reset", json={"token": token, "password": "password123"}
    )
    assert (common.status_code, common.json()["reason"]) == (400, "weak_password")
    short = await client.post("/auth/password/reset", json={"token": token, "password": "x"})
    assert (short.status_code, short.json()["error"]) == (400, "invalid_request")
    done = await client.post(
        "/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204


async def test_requests_are_throttled_per_address_alike_for_known_and_unknown(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("reset-g", email="reset-g@example.test")
    for address in ("reset-g@example.test", "unknown-g@example.test"):
        answers = [(await forgot(client, runtime, address)).status_code for _ in range(4)]
        assert answers == [202, 202, 202, 429], address
    assert len(mailbox.to("reset-g@example.test")) == 3
    # Another address is not affected; a login from the same client address is not either.
    assert (await forgot(client, runtime, "reset-h@example.test")).status_code == 202
    assert (await login(client, "reset-g", PASSWORD)).status_code == 200


async def test_requests_are_throttled_per_client_address(
    client: httpx.AsyncClient, runtime: Container
) -> None:
    answers = [
        (await forgot(client, runtime, f"spray-{n}@example.test")).status_code for n in range(11)
    ]
    assert answers == [202] * 10 + [429]
    throttled = await client.post("/auth/password/forgot", json={"email": "x@example.test"})
    assert throttled.json()["error"] == "rate_limited"
    assert "retry-after" in throttled.headers


async def test_bad_input_is_the_native_error_shape(client: httpx.AsyncClient) -> None:
    for body in ({}, {"email": 5}, {"email": "not-an-address"}, {"email": "a@b" + "c" * 400}):
        answer = await client.post("/auth/password/forgot", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"] == "invalid_request"
    for body in ({"token": "x"}, {"token": "", "password": NEW_PASSWORD}):
        answer = await client.post("/auth/password/reset", json=body)
        assert answer.status_code == 400, body


async def test_housekeeping_deletes_expired_links(
    client: httpx.AsyncClient,
    runtime: Container,
    make_user: UserFactory,
    mailbox: Mailbox,
    clock: FrozenClock,
) -> None:
    await make_user("reset-p", email="reset-p@example.test")
    await forgot(client, runtime, "reset-p@example.test")
    mailbox.wait_for("reset-p@example.test")
    await runtime.purge()
    async with runtime.storage.engine.connect() as conn:
        assert len((await conn.execute(sa.select(t.account_tokens))).all()) == 1
    clock.advance(1801)
    await runtime.purge()
    async with runtime.storage.engine.connect() as conn:
        assert (await conn.execute(sa.select(t.account_tokens))).all() == []
