"""Invitations and email verification: the mailed link, read from a real SMTP server, is the
only way in; `email_verified` follows what the user proved, in tokens and /auth/me."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.core.errors import Conflict, InvalidRequest
from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from tests.account.smtp import Mailbox, link_of, link_token, text_of
from tests.cli.tree import invoke
from tests.conftest import PASSWORD, UserFactory

CLI = RequestContext(surface="cli")
CHOSEN = "my own chosen passphrase"


async def bearer(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    login = await client.post("/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_an_invited_user_chooses_a_password_and_is_verified(
    client: httpx.AsyncClient, runtime: Container, mailbox: Mailbox
) -> None:
    await runtime.admin.add_org("acme", name="Acme", actor="test")
    invitation = await runtime.account.invite(
        "New.Person@example.test", org="acme", roles=(), actor="admin", ctx=CLI
    )
    user = invitation.user
    assert (user.username, user.org_uid, user.password_hash) == (
        "New.Person@example.test",
        "acme",
        None,
    )
    assert invitation.expires_at - runtime.clock.now() == 7 * 86400
    [message] = mailbox.wait_for("New.Person@example.test")
    assert message["Subject"] == "You are invited to testserver"
    assert link_of(message).startswith("http://testserver/account/invite?token=")
    assert "(acme)" in text_of(message)
    # Pending: no password, so no login yet.
    refused = await client.post(
        "/auth/login", json={"username": "New.Person@example.test", "password": CHOSEN}
    )
    assert refused.status_code == 401

    token = link_token(message)
    accepted = await client.post(
        "/auth/invitations/accept", json={"token": token, "password": CHOSEN}
    )
    assert (accepted.status_code, accepted.content) == (204, b"")
    me = await client.get("/auth/me", headers=await bearer(client, user.username, CHOSEN))
    assert (me.json()["email_verified"], me.json()["org"]) == (True, "acme")

    again = await client.post(
        "/auth/invitations/accept", json={"token": token, "password": "x" * 12}
    )
    assert (again.status_code, again.json()["reason"]) == (400, "invalid_link")
    await runtime.storage.audit.flush()
    [event] = await runtime.storage.audit.query(AuditQuery(event="user.invite"))
    assert (event.actor, event.target, event.details["resent"]) == ("admin", user.username, False)


async def test_inviting_again_sends_a_new_link_and_an_active_user_is_a_conflict(
    runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    first = await runtime.account.invite(
        "twice@example.test", org=None, roles=(), actor="a", ctx=CLI
    )
    second = await runtime.account.invite(
        "twice@example.test", org=None, roles=(), actor="a", ctx=CLI
    )
    assert (second.resent, second.user.id) == (True, first.user.id)
    assert len(mailbox.wait_for("twice@example.test", count=2)) == 2
    await make_user("active", email="active@example.test")
    with pytest.raises(Conflict):
        await runtime.account.invite("active@example.test", org=None, roles=(), actor="a", ctx=CLI)
    with pytest.raises(InvalidRequest):
        await runtime.account.invite("not an address", org=None, roles=(), actor="a", ctx=CLI)


async def test_email_verification_by_link(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("verify-a", email="verify-a@example.test")
    headers = await bearer(client, "verify-a", PASSWORD)
    me = await client.get("/auth/me", headers=headers)
    assert me.json()["email_verified"] is False
    claims = (await runtime.auth.verify_signature(headers["Authorization"][7:])).claims
    assert (claims["email"], claims["email_verified"]) == ("verify-a@example.test", False)

    sent = await client.post("/auth/email/verification", headers=headers)
    assert (sent.status_code, sent.json()) == (202, {"status": "sent"})
    [message] = mailbox.wait_for("verify-a@example.test")
    assert link_of(message).startswith("http://testserver/account/verify-email?token=")
    done = await client.post("/auth/email/verify", json={"token": link_token(message)})
    assert done.status_code == 204

    fresh = await bearer(client, "verify-a", PASSWORD)
    claims = (await runtime.auth.verify_signature(fresh["Authorization"][7:])).claims
    assert claims["email_verified"] is True
    again = await client.post("/auth/email/verification", headers=fresh)
    assert (again.status_code, again.json()) == (200, {"status": "already_verified"})
    # A new address is not verified by the old one's link.
    await runtime.admin.update_user("verify-a", email="verify-new@example.test", actor="test")
    me = await client.get("/auth/me", headers=await bearer(client, "verify-a", PASSWORD))
    assert (me.json()["email"], me.json()["email_verified"]) == ("verify-new@example.test", False)


async def test_a_link_for_a_replaced_address_is_refused(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("verify-b", email="verify-b@example.test")
    headers = await bearer(client, "verify-b", PASSWORD)
    await client.post("/auth/email/verification", headers=headers)
    token = link_token(mailbox.wait_for("verify-b@example.test")[0])
    await runtime.admin.update_user("verify-b", email="elsewhere@example.test", actor="test")
    refused = await client.post("/auth/email/verify", json={"token": token})
    assert (refused.status_code, refused.json()["reason"]) == (400, "invalid_link")
    user = await runtime.storage.find_user("verify-b")
    assert user is not None
    assert user.email_verified is False


async def test_verification_needs_a_user_token(client: httpx.AsyncClient) -> None:
    answer = await client.post("/auth/email/verification")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


def test_the_cli_without_a_mail_server_says_what_to_set(tmp_path: Path) -> None:
    env = {"GATEPASS_HOME": str(tmp_path / "var")}
    assert invoke(["init", "--json"], env).exit_code == 0
    result = invoke(["user", "invite", "x@example.test", "--json"], env)
    assert result.exit_code != 0
    assert "set GATEPASS_SMTP_URL and GATEPASS_SMTP_FROM" in result.stdout + result.stderr
    assert invoke(["user", "show", "x@example.test", "--json"], env).exit_code != 0


def test_the_cli_invites_into_an_org_with_roles(tmp_path: Path, smtp: tuple[Mailbox, int]) -> None:
    """`gatepass user invite EMAIL --org --role` as the issue gives it: the pending user has the
    org and roles, the mail is read from the SMTP server, and its link sets the password."""
    mailbox, port = smtp
    env = {
        "GATEPASS_HOME": str(tmp_path / "var"),
        "GATEPASS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "GATEPASS_SMTP_FROM": "no-reply@example.test",
        "GATEPASS_SMTP_STARTTLS": "off",
    }
    assert invoke(["init", "--json"], env).exit_code == 0
    assert invoke(["org", "add", "acme", "--json"], env).exit_code == 0
    assert invoke(["role", "add", "editor", "--scope", "docs:write", "--json"], env).exit_code == 0
    result = invoke(
        ["user", "invite", "cli-invitee@example.test", "--org", "acme", "--role", "editor",
         "--json"],
        env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    shown = json.loads(result.stdout)
    assert (shown["username"], shown["org"], shown["roles"]) == (
        "cli-invitee@example.test",
        "acme",
        ["editor"],
    )
    assert (shown["invitation_sent_to"], shown["has_password"], shown["resent"]) == (
        "cli-invitee@example.test",
        False,
        False,
    )
    [message] = mailbox.wait_for("cli-invitee@example.test")
    assert link_of(message).startswith("http://")
    assert "/account/invite?token=" in link_of(message)
    assert link_token(message) not in result.stdout  # the link is the invitee's secret
    unknown = invoke(["user", "invite", "x2@example.test", "--org", "nope", "--json"], env)
    assert unknown.exit_code != 0
    assert "nope" in unknown.stdout + unknown.stderr
