"""Every self-service event (issue 18) is counted in `gatepass_audit_events_total{event,
outcome}` as it is audited, and each mail in `gatepass_mail_sent_total{template,outcome}`:
the whole path is driven over HTTP with a real SMTP server, and the counters' deltas are read
from /metrics."""

from __future__ import annotations

import httpx

from gatepass.app.container import Container
from gatepass.core.models import RequestContext
from gatepass.http.oidc.pages import SIGNIN_COOKIE
from tests.account.authenticator import SoftAuthenticator
from tests.account.smtp import Mailbox, link_token
from tests.account.test_passkeys import ORIGIN, passkey_login, register
from tests.conftest import PASSWORD, UserFactory
from tests.ops.scripted import sample

NEW = "a brand new passphrase"
AUDITED = [
    ("password.reset_request", "success"),
    ("password.reset_request", "failure"),
    ("password.reset", "success"),
    ("password.reset", "failure"),
    ("password.change", "success"),
    ("password.change", "failure"),
    ("user.invite", "success"),
    ("invitation.accept", "success"),
    ("email.verify_request", "success"),
    ("email.verify", "success"),
    ("passkey.register", "success"),
    ("passkey.rename", "success"),
    ("passkey.authenticate", "failure"),
    ("passkey.remove", "success"),
    ("session.revoke", "success"),
    ("admin.user.sessions_end", "success"),
]
MAILED = [("password_reset", "success"), ("invitation", "success"),
          ("email_verification", "success")]  # fmt: skip


async def counts(client: httpx.AsyncClient) -> dict[tuple[str, str, str], float]:
    text = (await client.get("/metrics")).text
    found: dict[tuple[str, str, str], float | None] = {
        ("audit", event, outcome): sample(
            text, "gatepass_audit_events_total", event=event, outcome=outcome
        )
        for event, outcome in AUDITED
    }
    found |= {
        ("mail", template, outcome): sample(
            text, "gatepass_mail_sent_total", template=template, outcome=outcome
        )
        for template, outcome in MAILED
    }
    found[("login", "native", "passkey")] = sample(
        text, "gatepass_logins_total", surface="native", method="passkey", outcome="success"
    )
    return {key: value or 0.0 for key, value in found.items()}


async def bearer(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    login = await client.post("/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_every_account_event_is_counted(
    client: httpx.AsyncClient, runtime: Container, make_user: UserFactory, mailbox: Mailbox
) -> None:
    await make_user("count-a", email="count-a@example.test")
    before = await counts(client)

    # Reset: a known and an unknown address, a spent link, a good one.
    for address in ("count-a@example.test", "nobody-count@example.test"):
        answer = await client.post("/auth/password/forgot", json={"email": address})
        assert answer.status_code == 202
    await runtime.account.background.drain()
    token = link_token(mailbox.wait_for("count-a@example.test")[0])
    done = await client.post("/auth/password/reset", json={"token": token, "password": NEW})
    assert done.status_code == 204
    spent = await client.post("/auth/password/reset", json={"token": token, "password": NEW})
    assert spent.status_code == 400

    # Change: a wrong current password, then a good change ending a browser sign-in.
    await runtime.oidc.signins.with_password("count-a", NEW, RequestContext(surface="oidc"))
    headers = await bearer(client, "count-a", NEW)
    wrong = await client.post(
        "/auth/password/change",
        headers=headers,
        json={"current_password": "not it at all", "new_password": PASSWORD},
    )
    assert wrong.status_code == 401
    changed = await client.post(
        "/auth/password/change",
        headers=headers,
        json={"current_password": NEW, "new_password": PASSWORD, "end_other_sessions": True},
    )
    assert changed.json()["browser_sessions_ended"] == 1
    assert SIGNIN_COOKIE not in client.cookies

    # Verification (the reset proved count-a's address already) and an invitation.
    await make_user("count-c", email="count-c@example.test")
    other = await bearer(client, "count-c", PASSWORD)
    assert (await client.post("/auth/email/verification", headers=other)).status_code == 202
    verify = link_token(mailbox.wait_for("count-c@example.test")[0])
    assert (await client.post("/auth/email/verify", json={"token": verify})).status_code == 204
    await runtime.account.invite(
        "count-b@example.test", org=None, roles=(), actor="admin", ctx=RequestContext("cli")
    )
    invited = link_token(mailbox.wait_for("count-b@example.test")[0])
    accepted = await client.post(
        "/auth/invitations/accept", json={"token": invited, "password": NEW}
    )
    assert accepted.status_code == 204

    # Passkeys: register, rename, sign in, remove.
    device = SoftAuthenticator(origin=ORIGIN, rp_id="testserver")
    registered = await register(client, headers, device)
    assert registered.status_code == 201, registered.text
    passkey = registered.json()["id"]
    renamed = await client.patch(
        f"/auth/webauthn/passkeys/{passkey}", headers=headers, json={"name": "Phone"}
    )
    assert renamed.status_code == 200
    assert (await passkey_login(client, device)).status_code == 200
    assert (await passkey_login(client, device, origin="https://evil.example")).status_code == 401
    removed = await client.delete(f"/auth/webauthn/passkeys/{passkey}", headers=headers)
    assert removed.status_code == 204

    # The admin's "end all sessions".
    await runtime.admin.end_sessions("count-a", actor="root")

    after = await counts(client)
    delta = {key: after[key] - before[key] for key in after}
    assert delta == {
        ("audit", "password.reset_request", "success"): 1,
        ("audit", "password.reset_request", "failure"): 1,
        ("audit", "password.reset", "success"): 1,
        ("audit", "password.reset", "failure"): 1,
        ("audit", "password.change", "success"): 1,
        ("audit", "password.change", "failure"): 1,
        ("audit", "user.invite", "success"): 1,
        ("audit", "invitation.accept", "success"): 1,
        ("audit", "email.verify_request", "success"): 1,
        ("audit", "email.verify", "success"): 1,
        ("audit", "passkey.register", "success"): 1,
        ("audit", "passkey.rename", "success"): 1,
        ("audit", "passkey.authenticate", "failure"): 1,
        ("login", "native", "passkey"): 1,
        ("audit", "passkey.remove", "success"): 1,
        # One browser sign-in ended by the change; no session left for the admin to end.
        ("audit", "session.revoke", "success"): 1,
        ("audit", "admin.user.sessions_end", "success"): 1,
        ("mail", "password_reset", "success"): 1,
        ("mail", "invitation", "success"): 1,
        ("mail", "email_verification", "success"): 1,
    }
