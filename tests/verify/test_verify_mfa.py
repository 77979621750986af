"""`gatepass.verify` requiring a second factor (`require_mfa`), methods (`required_amr`) and a
class (`acr_values`), with tokens issued by the real app."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gatepass.core.mfa import totp
from gatepass.verify import InsufficientAuthentication, TokenVerifier
from gatepass.verify.starlette import protect
from tests.conftest import PASSWORD
from tests.mfa.helpers import confirmed_factor

MFA = "urn:gatepass:acr:mfa"


@pytest.fixture
async def tokens(gatepass_http, make_user, runtime, clock) -> dict[str, str]:
    """An access token of a password-only login, and one of a login with TOTP."""
    http = gatepass_http.client
    await make_user("alice")
    await make_user("bob")
    secret = await confirmed_factor(runtime, clock, "bob")
    alice = await http.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    first = await http.post("/auth/login", json={"username": "bob", "password": PASSWORD})
    second = await http.post(
        "/auth/login/mfa",
        json={
            "mfa_token": first.json()["mfa_token"],
            "method": "totp",
            "code": totp.code_at(secret, clock.now()),
        },
    )
    assert second.status_code == 200
    return {"pwd": alice.json()["access_token"], "mfa": second.json()["access_token"]}


async def test_require_mfa_refuses_a_password_only_login(verifier: TokenVerifier, tokens):
    with pytest.raises(InsufficientAuthentication) as refused:
        await verifier.verify(tokens["pwd"], require_mfa=True)
    assert refused.value.code == "insufficient_user_authentication"
    assert refused.value.status == 401
    assert refused.value.description == "the login did not use: mfa (sign in again with it)"
    verified = await verifier.verify(tokens["mfa"], require_mfa=True)
    assert verified.amr == {"pwd", "otp", "mfa"}
    assert verified.acr == MFA


async def test_required_amr_and_acr_values(verifier: TokenVerifier, tokens):
    assert (await verifier.verify(tokens["pwd"], required_amr=["pwd"])).acr == (
        "urn:gatepass:acr:pwd"
    )
    with pytest.raises(InsufficientAuthentication):
        await verifier.verify(tokens["pwd"], required_amr=["otp"])
    with pytest.raises(InsufficientAuthentication) as refused:
        await verifier.verify(tokens["pwd"], acr_values=[MFA])
    assert refused.value.description == f"the login's acr must be one of: {MFA}"
    assert (await verifier.verify(tokens["mfa"], acr_values=[MFA])).subject


async def test_machine_tokens_have_no_amr_and_fail_require_mfa(
    verifier: TokenVerifier, gatepass_http, make_client
):
    svc = await make_client("svc")
    login = await gatepass_http.client.post(
        "/auth/login", json={"client_id": svc.client.client_id, "client_secret": svc.client_secret}
    )
    token = login.json()["access_token"]
    assert (await verifier.verify(token)).amr == frozenset()
    with pytest.raises(InsufficientAuthentication):
        await verifier.verify(token, require_mfa=True)


async def test_starlette_protect_answers_the_rfc_9470_challenge(verifier: TokenVerifier, tokens):
    @protect(verifier=verifier, require_mfa=True)
    async def secret(request: Request) -> JSONResponse:
        return JSONResponse({"amr": sorted(request.state.gatepass_token.amr)})

    app = Starlette(routes=[Route("/secret", secret)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        weak = await api.get("/secret", headers={"Authorization": f"Bearer {tokens['pwd']}"})
        strong = await api.get("/secret", headers={"Authorization": f"Bearer {tokens['mfa']}"})
    assert weak.status_code == 401
    assert weak.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_user_authentication", '
        'error_description="the login did not use: mfa (sign in again with it)", '
        f'acr_values="{MFA}"'
    )
    assert strong.status_code == 200
    assert strong.json() == {"amr": ["mfa", "otp", "pwd"]}
