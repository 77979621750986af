"""TOTP enrolment and the MFA login step on the native API, over the ASGI transport."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from gatepass.core.mfa import totp
from tests.conftest import PASSWORD
from tests.mfa.helpers import bearer, enrol, mfa_token, tokens

INVALID_CREDENTIALS = {"error": "invalid_credentials", "error_description": "invalid credentials"}


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def second_step(client, token: str, method: str, code: str):
    return await client.post(
        "/auth/login/mfa", json={"mfa_token": token, "method": method, "code": code}
    )


# ---------------------------------------------------------------- enrolment


async def test_enrolment_returns_secret_uri_and_qr_then_ten_recovery_codes(
    client, make_user, clock
):
    await make_user("alice", email="alice@example.com")
    access = (await tokens(client, "alice"))["access_token"]
    started = await client.post("/auth/mfa/totp", headers=bearer(access))
    assert started.status_code == 200
    assert started.headers["cache-control"] == "no-store"
    body = started.json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert body["otpauth_uri"] == (
        f"otpauth://totp/gatepass:alice%40example.com?secret={body['secret']}&issuer=gatepass"
    )
    assert body["qr_svg"].startswith("<svg")
    assert body["qr_svg"].rstrip().endswith("</svg>")
    confirmed = await client.post(
        "/auth/mfa/totp/confirm",
        headers=bearer(access),
        json={"code": totp.code_at(body["secret"], clock.now())},
    )
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert set(confirmed.json()) == {"recovery_codes"}


async def test_confirm_refuses_a_wrong_code_and_enrolment_stays_pending(client, make_user, clock):
    await make_user("alice")
    access = (await tokens(client, "alice"))["access_token"]
    secret = (await client.post("/auth/mfa/totp", headers=bearer(access))).json()["secret"]
    wrong = f"{(int(totp.code_at(secret, clock.now())) + 1) % 1_000_000:06d}"
    refused = await client.post(
        "/auth/mfa/totp/confirm", headers=bearer(access), json={"code": wrong}
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_code", "error_description": "the code is invalid"}
    # Not confirmed: a password alone still logs in.
    assert (await tokens(client, "alice"))["access_token"]


async def test_a_second_enrolment_is_refused_once_one_is_confirmed(client, make_user, clock):
    await make_user("alice")
    await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    # No bearer token without the second factor; and with one, enrolment again is a conflict.
    refused = await client.post("/auth/mfa/totp", json={"mfa_token": token})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_grant"


async def test_enrolment_needs_a_users_bearer_token(client, make_client):
    assert (await client.post("/auth/mfa/totp")).status_code == 401
    new = await make_client("svc")
    logged = await client.post(
        "/auth/login", json={"client_id": new.client.client_id, "client_secret": new.client_secret}
    )
    answer = await client.post("/auth/mfa/totp", headers=bearer(logged.json()["access_token"]))
    assert answer.status_code == 400
    assert answer.json()["error_description"] == "only a user can have a second factor"


# ---------------------------------------------------------------- the login step


async def test_mfa_user_gets_mfa_required_then_tokens_with_amr(client, make_user, clock):
    await make_user("alice")
    secret, _ = await enrol(client, clock, "alice")
    response = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error", "error_description", "mfa_token", "methods"}
    assert body["error"] == "mfa_required"
    assert body["methods"] == ["totp", "recovery_code"]
    done = await second_step(client, body["mfa_token"], "totp", totp.code_at(secret, clock.now()))
    assert done.status_code == 200
    assert set(done.json()) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "session_id",
    }
    access = claims(done.json()["access_token"])
    assert access["amr"] == ["mfa", "otp", "pwd"]
    assert access["acr"] == "urn:gatepass:acr:mfa"
    # A refresh keeps how the session was authenticated.
    refreshed = await client.post(
        "/auth/refresh", json={"refresh_token": done.json()["refresh_token"]}
    )
    assert claims(refreshed.json()["access_token"])["amr"] == ["mfa", "otp", "pwd"]


async def test_password_only_login_carries_pwd(client, make_user):
    await make_user("alice")
    access = claims((await tokens(client, "alice"))["access_token"])
    assert access["amr"] == ["pwd"]
    assert access["acr"] == "urn:gatepass:acr:pwd"


async def test_wrong_password_of_an_mfa_user_is_the_same_invalid_credentials(
    client, make_user, clock
):
    await make_user("alice")
    await enrol(client, clock, "alice")
    wrong = await client.post("/auth/login", json={"username": "alice", "password": "nope-nope"})
    unknown = await client.post("/auth/login", json={"username": "zed", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == INVALID_CREDENTIALS


async def test_recovery_code_works_once(client, make_user, clock):
    await make_user("alice")
    _, codes = await enrol(client, clock, "alice")
    first = await second_step(client, await mfa_token(client, "alice"), "recovery_code", codes[0])
    assert first.status_code == 200
    assert claims(first.json()["access_token"])["amr"] == ["mfa", "otp", "pwd"]
    again = await second_step(client, await mfa_token(client, "alice"), "recovery_code", codes[0])
    assert again.status_code == 401
    assert again.json() == INVALID_CREDENTIALS
    # Typed loosely (upper case, no dash), another code is still good.
    loose = codes[1].upper().replace("-", "")
    other = await second_step(client, await mfa_token(client, "alice"), "recovery_code", loose)
    assert other.status_code == 200


async def test_a_totp_code_cannot_be_replayed(client, make_user, clock):
    await make_user("alice")
    secret, _ = await enrol(client, clock, "alice")
    code = totp.code_at(secret, clock.now())
    assert (
        await second_step(client, await mfa_token(client, "alice"), "totp", code)
    ).status_code == 200
    replay = await second_step(client, await mfa_token(client, "alice"), "totp", code)
    assert replay.status_code == 401
    assert replay.json() == INVALID_CREDENTIALS
    # Nor can the previous step's code, once a later one was used (drift window, going back).
    clock.advance(totp.PERIOD)
    earlier = totp.code_at(secret, clock.now() - totp.PERIOD)
    older = await second_step(client, await mfa_token(client, "alice"), "totp", earlier)
    assert older.status_code == 401


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
async def test_one_step_of_drift_either_way(client, make_user, clock, offset, accepted):
    await make_user("alice")
    secret, _ = await enrol(client, clock, "alice")
    clock.advance(3 * totp.PERIOD)  # well past the enrolment's step
    code = totp.code_at(secret, clock.now() + offset * totp.PERIOD)
    answer = await second_step(client, await mfa_token(client, "alice"), "totp", code)
    assert answer.status_code == (200 if accepted else 401)


async def test_mfa_token_is_single_use(client, make_user, clock):
    await make_user("alice")
    _secret, codes = await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    assert (await second_step(client, token, "recovery_code", codes[0])).status_code == 200
    again = await second_step(client, token, "recovery_code", codes[1])
    assert again.status_code == 401
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "the mfa_token is invalid, expired or already used",
        "reason": "mfa_token_invalid",
    }


async def test_mfa_token_expires_after_five_minutes(client, make_user, clock):
    await make_user("alice")
    _secret, codes = await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    clock.advance(299)
    still = await second_step(client, token, "recovery_code", codes[0])
    assert still.status_code == 200
    token = await mfa_token(client, "alice")
    clock.advance(300)
    late = await second_step(client, token, "recovery_code", codes[1])
    assert late.status_code == 401
    assert late.json()["reason"] == "mfa_token_invalid"


async def test_mfa_token_is_bound_to_the_password_it_followed(client, make_user, runtime, clock):
    await make_user("alice")
    _, codes = await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    await runtime.admin.set_password("alice", "a-brand-new-passphrase", actor="test")
    answer = await second_step(client, token, "recovery_code", codes[0])
    assert answer.status_code == 401
    assert answer.json()["reason"] == "mfa_token_invalid"


async def test_mfa_token_is_bound_to_its_user(client, make_user, clock):
    await make_user("alice")
    await make_user("bob")
    _, alice_codes = await enrol(client, clock, "alice")
    await enrol(client, clock, "bob")
    bobs = await mfa_token(client, "bob")
    # Alice's recovery code does not complete Bob's login.
    answer = await second_step(client, bobs, "recovery_code", alice_codes[0])
    assert answer.status_code == 401
    assert answer.json() == INVALID_CREDENTIALS


async def test_forged_and_garbage_mfa_tokens_are_invalid_grant(client):
    answer = await second_step(client, "gp_mfa_forged", "totp", "123456")
    assert answer.status_code == 401
    assert answer.json()["reason"] == "mfa_token_invalid"
    bad = await client.post(
        "/auth/login/mfa", json={"mfa_token": "x", "method": "sms", "code": "1"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_request"


async def test_webauthn_is_refused_for_a_user_without_a_passkey(client, make_user, clock):
    await make_user("alice")
    await enrol(client, clock, "alice")
    answer = await second_step(client, await mfa_token(client, "alice"), "webauthn", "{}")
    assert answer.status_code == 400
    assert answer.json()["error_description"] == "'method' must be one of: totp, recovery_code"


async def test_failed_codes_are_throttled_like_passwords(client, make_user, runtime, clock):
    await make_user("alice")
    secret, _ = await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    limit = runtime.settings.login_failures_per_address
    for _ in range(limit):
        wrong = await second_step(client, token, "totp", "000000")
        assert wrong.status_code == 401
    blocked = await second_step(client, token, "totp", totp.code_at(secret, clock.now()))
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "rate_limited"
    assert int(blocked.headers["retry-after"]) > 0


async def test_remove_totp_needs_a_valid_code(client, make_user, clock):
    await make_user("alice")
    secret, codes = await enrol(client, clock, "alice")
    done = await second_step(client, await mfa_token(client, "alice"), "recovery_code", codes[0])
    access = done.json()["access_token"]
    wrong = await client.request(
        "DELETE", "/auth/mfa/totp", headers=bearer(access), json={"code": "000000"}
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_code"
    removed = await client.request(
        "DELETE",
        "/auth/mfa/totp",
        headers=bearer(access),
        json={"code": totp.code_at(secret, clock.now())},
    )
    assert removed.status_code == 204
    # The password alone logs in again.
    assert (await tokens(client, "alice"))["access_token"]


async def test_an_api_keys_token_cannot_manage_second_factors(client, make_user, runtime):
    await make_user("alice")
    key = await runtime.admin.add_api_key("alice", name="ci", actor="test")
    logged = await client.post("/auth/login", json={"username": "alice", "api_key": key.api_key})
    headers = bearer(logged.json()["access_token"])
    for method, path, body in (
        ("POST", "/auth/mfa/totp", None),
        ("POST", "/auth/mfa/totp/confirm", {"code": "123456"}),
        ("DELETE", "/auth/mfa/totp", {"code": "123456"}),
    ):
        answer = await client.request(method, path, headers=headers, json=body)
        assert answer.status_code == 400, path
        assert answer.json() == {
            "error": "invalid_request",
            "error_description": "second factors are managed from a password sign-in",
        }


async def test_enrolling_again_with_a_confirmed_authenticator_is_409(client, make_user, clock):
    await make_user("alice")
    _, codes = await enrol(client, clock, "alice")
    done = await second_step(client, await mfa_token(client, "alice"), "recovery_code", codes[0])
    answer = await client.post("/auth/mfa/totp", headers=bearer(done.json()["access_token"]))
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "conflict",
        "error_description": "a TOTP authenticator is already set up: remove it first",
    }
