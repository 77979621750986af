"""The console's second step for an administrator with an authenticator, the user page's
reset button and the org page's policy form (issue 18)."""

from __future__ import annotations

import re

from gatepass.core.mfa import totp
from gatepass.core.ports import AuditQuery
from tests.api.test_console import CSRF, LOGIN_CSRF, admin_user, csrf_of, found, sign_in
from tests.mfa.helpers import confirmed_factor

__all__ = ["admin_user"]
MFA_TOKEN = re.compile(r'name="mfa_token" value="([^"]+)"')


async def second_step(client, first, code: str, method: str = "totp"):
    assert first.status_code == 401, first.text
    form = {
        "mfa_token": found(MFA_TOKEN, first.text),
        "login_csrf": found(LOGIN_CSRF, first.text),
        "methods": "totp recovery_code",
        "method": method,
        "code": code,
        "next": "/console/users",
    }
    return await client.post("/console/login/mfa", data=form)


async def test_an_admin_with_an_authenticator_signs_in_in_two_steps(
    client, runtime, admin_user, clock
):
    secret = await confirmed_factor(runtime, clock, "root")
    first = await sign_in(client)
    assert "Enter your second factor" in first.text
    assert "gatepass_console=" not in first.headers.get("set-cookie", "")
    wrong = await second_step(client, first, "000000")
    assert wrong.status_code == 401
    assert "Wrong code." in wrong.text
    done = await second_step(client, wrong, totp.code_at(secret, clock.now()))
    assert done.status_code == 303
    assert done.headers["location"] == "/console/users"
    assert (await client.get("/console/users")).status_code == 200


async def test_the_second_step_needs_the_login_form_token(client, runtime, admin_user, clock):
    secret = await confirmed_factor(runtime, clock, "root")
    first = await sign_in(client)
    forged = await client.post(
        "/console/login/mfa",
        data={
            "mfa_token": found(MFA_TOKEN, first.text),
            "login_csrf": "forged",
            "method": "totp",
            "code": totp.code_at(secret, clock.now()),
        },
    )
    assert forged.status_code == 303
    assert forged.headers["location"] == "/console/login?done=session-expired"
    assert (await client.get("/console/users")).status_code == 303


async def test_reset_button_removes_a_users_factors(client, runtime, admin_user, make_user, clock):
    await make_user("alice")
    await confirmed_factor(runtime, clock, "alice")
    # root has no factor: a one-step sign-in.
    assert (await sign_in(client)).status_code == 303
    page = await client.get("/console/users/alice")
    assert "totp · 10 unused recovery code(s)" in page.text
    csrf = found(CSRF, page.text)
    reset = await client.post(
        "/console/users/alice/mfa/reset", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert reset.status_code == 303
    assert reset.headers["location"] == "/console/users/alice?done=mfa-reset"
    after = await client.get("/console/users/alice?done=mfa-reset")
    assert "None set up." in after.text
    events = await runtime.storage.audit.query(AuditQuery(event="mfa.reset"))
    assert [(e.actor, e.target) for e in events] == [("root", "alice")]


async def test_org_page_saves_the_policy(client, runtime, admin_user):
    await runtime.admin.add_org("acme", None, actor="test")
    assert (await sign_in(client)).status_code == 303
    csrf = await csrf_of(client, "/console/orgs/acme")
    saved = await client.post("/console/orgs/acme/mfa", data={"csrf": csrf, "require_mfa": "on"})
    assert saved.status_code == 303
    assert runtime.admin.mfa is not None
    policy = await runtime.admin.mfa.org_policy("acme")
    assert (policy.require_mfa, policy.dialects_without_mfa) == (True, False)
    page = await client.get("/console/orgs/acme")
    assert 'name="require_mfa" checked' in page.text
