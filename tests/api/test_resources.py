"""Issue 22 §2: registered APIs and audience-restricted tokens (RFC 8707), over HTTP.

A token asked for a resource has exactly `aud` = its URI and the scopes the request, the
principal and the resource have in common (never a privileged one); unknown or malformed
resources are `invalid_target` on both token endpoints; a refresh token remembers its
resources; gatepass's own endpoints refuse a resource's token, forward-auth checks `audience`.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.verify import InvalidToken as VerifyInvalidToken
from gatepass.verify import TokenVerifier
from tests.conftest import PASSWORD

NOTES = "https://notes.example.com"
BILLING = "urn:example:billing"


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def apis(runtime, make_user, make_client):
    """Two registered APIs, an administrator holding scopes of both and a client."""
    admin = runtime.admin
    await admin.add_resource(NOTES, scopes=["notes:read", "notes:write"], name="Notes", actor="t")
    await admin.add_resource(BILLING, scopes=["billing:read"], actor="t")
    await admin.put_role("admin", [ADMIN_SCOPE], actor="t")
    await make_user(
        "root", roles=["admin"], scopes=["notes:read", "notes:write", "billing:read", "docs:read"]
    )
    created = await make_client(
        "app",
        scopes=["notes:read", "docs:read"],
        grant_types=["client_credentials", "password", "refresh_token"],
    )
    return created.client.client_id, created.client_secret


async def login(client, **extra: Any):
    return await client.post(
        "/auth/login", json={"username": "root", "password": PASSWORD, **extra}
    )


async def oauth(client, credentials, **form: Any):
    return await client.post("/oauth/token", data=form, auth=credentials)


# ---------------------------------------------------------------- the token


async def test_a_resource_token_has_its_uri_as_aud_and_its_scopes(client, apis):
    response = await login(client, resource=NOTES)
    assert response.status_code == 200, response.text
    body = response.json()
    access = claims(body["access_token"])
    assert access["aud"] == NOTES
    # every scope held, narrowed to what the API offers; gatepass:admin is never among them
    assert access["scope"] == body["scope"] == "notes:read notes:write"
    narrower = await login(client, resource=NOTES, scope="notes:read docs:read")
    assert claims(narrower.json()["access_token"])["scope"] == "notes:read"


async def test_a_privileged_scope_never_goes_into_a_resource_token(client, apis):
    named = await login(client, resource=[NOTES], scope=f"{ADMIN_SCOPE} notes:write")
    assert named.status_code == 200
    assert claims(named.json()["access_token"])["scope"] == "notes:write"


async def test_without_a_resource_aud_stays_gatepass(client, apis):
    body = (await login(client)).json()
    assert claims(body["access_token"])["aud"] == "gatepass"
    assert (await client.get("/auth/me", headers=bearer(body["access_token"]))).status_code == 200


async def test_several_resources_give_an_array_audience(client, apis):
    body = (await login(client, resource=[NOTES, BILLING, NOTES])).json()
    access = claims(body["access_token"])
    assert access["aud"] == sorted([NOTES, BILLING])
    assert access["scope"] == "billing:read notes:read notes:write"


@pytest.mark.parametrize(
    ("resource", "description"),
    [
        ("https://unknown.example.com", "'https://unknown.example.com' is not a registered API"),
        (
            "/relative/path",
            "'/relative/path' is not an absolute URI (such as https://api.example.com)",
        ),
        (f"{NOTES}#frag", f"'{NOTES}#frag' has a fragment; a resource URI must not (RFC 8707 §2)"),
        ("", "a resource URI is 1-512 characters"),
    ],
)
async def test_unknown_or_malformed_resources_are_invalid_target(
    client, apis, resource, description
):
    native = await login(client, resource=resource)
    assert native.status_code == 400
    assert native.json() == {"error": "invalid_target", "error_description": description}
    if resource:  # an empty form parameter counts as absent (RFC 6749 §3.1)
        form = {"grant_type": "client_credentials", "resource": resource}
        refused = await oauth(client, apis, **form)
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_target", "error_description": description}
        assert refused.headers["cache-control"] == "no-store"


async def test_a_resource_must_be_a_string_or_a_list_of_strings(client, apis):
    response = await login(client, resource=7)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# ---------------------------------------------------------------- OAuth


async def test_client_credentials_with_repeated_resource_parameters(client, apis):
    response = await client.post(
        "/oauth/token",
        content=f"grant_type=client_credentials&resource={NOTES}&resource={BILLING}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=apis,
    )
    assert response.status_code == 200, response.text
    access = claims(response.json()["access_token"])
    assert access["aud"] == sorted([NOTES, BILLING])
    assert access["scope"] == "notes:read"  # the client holds no billing scope
    # other parameters still may not repeat
    twice = await client.post(
        "/oauth/token",
        content="grant_type=client_credentials&scope=a&scope=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=apis,
    )
    assert twice.json() == {
        "error": "invalid_request",
        "error_description": "duplicate parameter 'scope'",
    }


async def test_a_refresh_token_remembers_its_resources(client, apis):
    first = await oauth(
        client, apis, grant_type="password", username="root", password=PASSWORD,
        resource=[NOTES, BILLING],
    )  # fmt: skip
    assert first.status_code == 200, first.text
    refresh = first.json()["refresh_token"]

    one = await oauth(
        client, apis, grant_type="refresh_token", refresh_token=refresh, resource=BILLING
    )
    assert one.status_code == 200, one.text
    assert claims(one.json()["access_token"])["aud"] == BILLING
    assert one.json()["scope"] == "billing:read"

    refresh = one.json()["refresh_token"]
    both = await oauth(client, apis, grant_type="refresh_token", refresh_token=refresh)
    assert claims(both.json()["access_token"])["aud"] == sorted([NOTES, BILLING])

    other = await oauth(
        client,
        apis,
        grant_type="refresh_token",
        refresh_token=both.json()["refresh_token"],
        resource="https://other.example.com",
    )
    assert other.status_code == 400
    assert other.json() == {
        "error": "invalid_target",
        "error_description": "the refresh token was not granted for 'https://other.example.com'",
    }


async def test_a_native_refresh_may_ask_for_one_of_its_resources(client, apis):
    body = (await login(client, resource=[NOTES, BILLING])).json()
    one = await client.post(
        "/auth/refresh", json={"refresh_token": body["refresh_token"], "resource": NOTES}
    )
    assert one.status_code == 200
    assert claims(one.json()["access_token"])["aud"] == NOTES
    assert one.json()["scope"] == "notes:read notes:write"

    plain = (await login(client)).json()
    foreign = await client.post(
        "/auth/refresh", json={"refresh_token": plain["refresh_token"], "resource": NOTES}
    )
    assert foreign.status_code == 400
    assert foreign.json() == {
        "error": "invalid_target",
        "error_description": f"the refresh token was not granted for '{NOTES}'",
    }


async def test_a_removed_api_gets_no_new_tokens(client, runtime, apis):
    body = (await login(client, resource=NOTES)).json()
    await runtime.admin.delete_resource(NOTES, actor="t")
    refreshed = await client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_target"
    assert (await login(client, resource=NOTES)).json()["error"] == "invalid_target"


# ---------------------------------------------------------------- who accepts the token


async def test_gatepass_endpoints_refuse_a_resource_token(client, apis):
    token = (await login(client, resource=NOTES)).json()["access_token"]
    me = await client.get("/auth/me", headers=bearer(token))
    assert me.status_code == 401
    assert me.json()["error_description"] == "the token is meant for another audience"
    assert (await client.get("/admin/users", headers=bearer(token))).status_code == 401
    # ...but it may end its own session
    assert (await client.post("/auth/logout", headers=bearer(token))).status_code == 204


async def test_forward_auth_checks_the_audience(client, apis):
    api_token = (await login(client, resource=NOTES)).json()["access_token"]
    plain_token = (await login(client)).json()["access_token"]

    allowed = await client.get(
        "/auth/verify", params={"audience": NOTES, "scope": "notes:read"},
        headers=bearer(api_token),
    )  # fmt: skip
    assert allowed.status_code == 200
    assert allowed.headers["x-gatepass-scopes"] == "notes:read notes:write"

    for token, params in (
        (plain_token, {"audience": NOTES}),  # a token for gatepass is not one for the API
        (api_token, {"audience": BILLING}),  # nor is one for another API
        (api_token, {}),  # nor is an API's token one for gatepass
    ):
        refused = await client.get("/auth/verify", params=params, headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "invalid_token",
            "error_description": "the token is meant for another audience",
        }
        assert refused.headers["www-authenticate"] == (
            'Bearer realm="gatepass", error="invalid_token", '
            'error_description="the token is meant for another audience"'
        )
    missing = await client.get(
        "/auth/verify", params={"audience": NOTES, "scope": "billing:read"},
        headers=bearer(api_token),
    )  # fmt: skip
    assert missing.status_code == 403


async def test_introspection_returns_aud(client, apis):
    token = (await login(client, resource=NOTES)).json()["access_token"]
    info = await client.post("/oauth/introspect", data={"token": token}, auth=apis)
    assert info.status_code == 200
    body = info.json()
    assert (body["active"], body["aud"], body["scope"]) == (True, NOTES, "notes:read notes:write")


async def test_gatepass_verify_takes_the_audience(client, apis, clock):
    token = (await login(client, resource=NOTES)).json()["access_token"]
    # The API registered as NOTES checks its own audience, with gatepass's published keys.
    verifier = TokenVerifier("http://testserver", NOTES, http=client, clock=clock.now)
    verified = await verifier.verify(token, required_scopes=["notes:read"])
    assert verified.claims["aud"] == NOTES
    with pytest.raises(VerifyInvalidToken, match="another audience"):
        await verifier.verify(token, audience="gatepass")
    plain = (await login(client)).json()["access_token"]
    with pytest.raises(VerifyInvalidToken, match="another audience"):
        await verifier.verify(plain)
    assert (await verifier.verify(plain, audience="gatepass")).claims["aud"] == "gatepass"


# ---------------------------------------------------------------- the admin API


async def admin_headers(client) -> dict[str, str]:
    token = (await login(client, scope=ADMIN_SCOPE)).json()["access_token"]
    return bearer(token)


async def test_admin_api_registers_lists_and_removes_apis(client, apis):
    headers = await admin_headers(client)
    created = await client.post(
        "/admin/resources",
        headers=headers,
        json={"uri": "https://reports.example.com", "scopes": ["reports:read"], "name": "Reports"},
    )
    assert created.status_code == 201
    assert created.json() == {
        "uri": "https://reports.example.com",
        "name": "Reports",
        "scopes": ["reports:read"],
        "created_at": created.json()["created_at"],
    }
    listed = await client.get("/admin/resources", headers=headers, params={"limit": 2})
    assert [r["uri"] for r in listed.json()["items"]] == [
        "https://notes.example.com",
        "https://reports.example.com",
    ]
    assert listed.json()["next"] == "/admin/resources?limit=2&offset=2"
    gone = await client.delete(
        "/admin/resources", headers=headers, params={"uri": "https://reports.example.com"}
    )
    assert gone.status_code == 204
    again = await client.delete(
        "/admin/resources", headers=headers, params={"uri": "https://reports.example.com"}
    )
    assert again.status_code == 404
    assert again.json() == {
        "error": "not_found",
        "error_description": "no resource https://reports.example.com",
    }


@pytest.mark.parametrize(
    ("body", "status", "description"),
    [
        ({"uri": "api.example.com"}, 400,
         "'api.example.com' is not an absolute URI (such as https://api.example.com)"),
        ({"uri": "https://api.example.com/#x"}, 400,
         "'https://api.example.com/#x' has a fragment; a resource URI must not (RFC 8707 §2)"),
        ({"uri": "https://api.example.com", "scopes": [ADMIN_SCOPE]}, 400,
         "gatepass:admin is privileged: it is never granted for an API"),
        ({"uri": NOTES}, 409, f"resource {NOTES} already exists"),
    ],
)  # fmt: skip
async def test_admin_api_refuses_bad_resources(client, apis, body, status, description):
    response = await client.post("/admin/resources", headers=await admin_headers(client), json=body)
    assert response.status_code == status
    assert response.json()["error_description"] == description


async def test_admin_api_needs_the_admin_scope_and_a_uri(client, apis):
    plain = bearer((await login(client)).json()["access_token"])
    assert (await client.get("/admin/resources", headers=plain)).status_code == 403
    missing = await client.delete("/admin/resources", headers=await admin_headers(client))
    assert missing.status_code == 400
    assert missing.json()["error_description"] == "give the resource as ?uri=…"


async def test_resources_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/admin/resources"]) == {"get", "post", "delete"}
    document = (await client.get("/openapi.json")).json()
    token_form = document["components"]["schemas"]["TokenForm"]["properties"]
    assert token_form["resource"]["anyOf"][0] == {"items": {"type": "string"}, "type": "array"}
    verify = {p["name"] for p in paths["/auth/verify"]["get"]["parameters"]}
    assert "audience" in verify
