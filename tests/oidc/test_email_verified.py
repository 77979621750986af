"""`email_verified` at userinfo follows what the user proved (issue 18): true once the address
is verified, false again when an admin changes it. (The ID token of the code flow carries no
`email` claims: a relying party reads them at userinfo, OIDC Core §5.4.)"""

from __future__ import annotations

from typing import Any

from gatepass.app.container import Container
from gatepass.core.models import PrincipalKind
from tests.oidc.conftest import Pkce, auth_params, authorize_through, query_of, redeem
from tests.oidc.test_happy_paths import verify_id_token


async def email_claims(browser: Any, rp: Any) -> dict[str, Any]:
    pkce = Pkce.new()
    callback = await authorize_through(browser, auth_params(rp, pkce, scope="openid email"))
    assert callback.status_code == 303
    tokens = await redeem(browser, rp, query_of(callback)["code"], pkce.verifier)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    claims = await verify_id_token(browser, body["id_token"], rp.client_id)
    assert not {"email", "email_verified"} & set(claims)
    info = await browser.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    return dict(info.json())


async def test_a_verified_address_is_email_verified_at_userinfo(
    browser: Any, alice: Any, web_rp: Any, runtime: Container
) -> None:
    verified = alice.evolve(verified_email=alice.email)
    await runtime.storage.update_user(verified)
    runtime.auth.principals.invalidate_cached(PrincipalKind.USER, alice.id)
    info = await email_claims(browser, web_rp)
    assert info == {"sub": alice.id, "email": "alice@example.com", "email_verified": True}

    await runtime.admin.update_user("alice", email="alice@elsewhere.example", actor="test")
    info = await email_claims(browser, web_rp)
    assert info == {"sub": alice.id, "email": "alice@elsewhere.example", "email_verified": False}
