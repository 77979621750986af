"""The hosted /login page has no second step yet (issue 18): an account that needs a second
factor is refused there with a clear message and no sign-in session, never signed in on its
password alone; a wrong password keeps the usual answer."""

from __future__ import annotations

from gatepass.core.mfa.models import OrgMfaPolicy
from gatepass.core.ports import AuditQuery
from gatepass.http.oidc.pages import SIGNIN_COOKIE
from tests.mfa.helpers import confirmed_factor
from tests.oidc.conftest import sign_in

SIGNIN = SIGNIN_COOKIE + "="
MESSAGE = (
    "this account signs in with a second factor, which this page cannot ask for yet: "
    "sign in through the native API or the console"
)


async def test_a_user_with_an_authenticator_gets_no_password_only_session(
    browser, runtime, alice, clock
):
    await confirmed_factor(runtime, clock, "alice")
    response = await sign_in(browser)
    assert response.status_code == 401
    assert MESSAGE in response.text
    assert not [c for c in response.headers.get_list("set-cookie") if c.startswith(SIGNIN)]
    events = await runtime.storage.audit.query(AuditQuery(event="login"))
    assert [e.details["reason"] for e in events if e.outcome == "failure"] == ["mfa_required"]
    wrong = await sign_in(browser, password="wrong password")
    assert wrong.status_code == 401
    assert MESSAGE not in wrong.text


async def test_a_user_under_policy_without_a_factor_is_refused_too(browser, runtime, alice):
    await runtime.admin.add_org("acme", None, actor="test")
    await runtime.admin.update_user("alice", org="acme", actor="test")
    await runtime.storage.set_org_mfa_policy(OrgMfaPolicy("acme", require_mfa=True))
    response = await sign_in(browser)
    assert response.status_code == 401
    assert MESSAGE in response.text


async def test_a_password_only_user_signs_in_as_before(browser, alice):
    response = await sign_in(browser)
    assert response.status_code == 200
    assert MESSAGE not in response.text
    assert [c for c in response.headers.get_list("set-cookie") if c.startswith(SIGNIN)]
