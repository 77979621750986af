"""The admin REST API over the ASGI transport: authentication, each resource, paging, audit."""

from __future__ import annotations

import pytest

from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from gatepass.core.scopes import ADMIN_SCOPE
from tests.api.conftest import CLIENT_ADDRESS
from tests.conftest import PASSWORD


@pytest.fixture
async def admin(client, runtime, make_user) -> dict[str, str]:
    await runtime.admin.put_role("admin", [ADMIN_SCOPE], actor="test")
    await make_user("root", roles=["admin"])
    login = await client.post(
        "/auth/login", json={"username": "root", "password": PASSWORD, "scope": ADMIN_SCOPE}
    )
    assert login.status_code == 200
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


# ---------------------------------------------------------------- authentication


async def test_no_token_is_401_with_a_challenge(client):
    response = await client.get("/admin/users")
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "a Bearer token is required",
    }
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


async def test_a_forged_token_is_401(client, admin):
    token = admin["Authorization"].removeprefix("Bearer ")
    head, body, signature = token.split(".")
    ending = "BBBB" if signature.endswith("AAAA") else "AAAA"
    forged = f"{head}.{body}.{signature[:-4]}{ending}"
    response = await client.get("/admin/users", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_a_token_without_the_admin_scope_is_403(client, make_user):
    await make_user("alice", scopes=["docs:read"])
    login = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    response = await client.post("/admin/users", headers=headers, json={"username": "mallory"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "missing scope(s): gatepass:admin",
    }
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'


async def test_losing_the_admin_role_takes_effect_before_the_token_expires(
    client, runtime, admin, clock
):
    assert (await client.get("/admin/users", headers=admin)).status_code == 200
    await runtime.admin.update_user("root", roles=[], actor="test")
    clock.advance(3)  # past the principal cache
    response = await client.get("/admin/users", headers=admin)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_a_console_cookie_token_is_no_bearer_token(client, runtime, admin):
    issued = await runtime.auth.login_password(
        "root", PASSWORD, scope=None, profile="console", ctx=RequestContext("console")
    )
    response = await client.get(
        "/admin/users", headers={"Authorization": f"Bearer {issued.access_token}"}
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "csrf_mismatch"


# ---------------------------------------------------------------- users


async def test_user_lifecycle_is_audited_with_the_admin_as_actor(client, runtime, admin):
    created = await client.post(
        "/admin/users",
        headers=admin,
        json={
            "username": "dora",
            "password": "a long enough password",
            "email": "dora@example.com",
            "scopes": ["docs:read"],
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("username", "email", "scopes", "disabled", "has_password")} == {
        "username": "dora",
        "email": "dora@example.com",
        "scopes": ["docs:read"],
        "disabled": False,
        "has_password": True,
    }
    assert "password" not in body
    assert "password_hash" not in body
    got = await client.get("/admin/users/dora", headers=admin)
    assert got.json() == body

    changed = await client.patch(
        "/admin/users/dora", headers=admin, json={"display_name": "Dora", "scopes": []}
    )
    assert (changed.status_code, changed.json()["display_name"], changed.json()["scopes"]) == (
        200,
        "Dora",
        [],
    )
    disabled = await client.post("/admin/users/dora/disable", headers=admin)
    assert disabled.json()["disabled"] is True
    enabled = await client.post("/admin/users/dora/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    password = await client.put(
        "/admin/users/dora/password", headers=admin, json={"password": "another good one"}
    )
    assert password.status_code == 204
    deleted = await client.delete("/admin/users/dora", headers=admin)
    assert deleted.status_code == 204
    missing = await client.get("/admin/users/dora", headers=admin)
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "not_found", "error_description": "no user dora"},
    )

    events = await runtime.admin.audit(AuditQuery(event="admin.user.", user="dora"))
    assert [(e.event, e.actor, e.target) for e in reversed(events)] == [
        ("admin.user.create", "root", "dora"),
        ("admin.user.update", "root", "dora"),
        ("admin.user.disable", "root", "dora"),
        ("admin.user.enable", "root", "dora"),
        ("admin.user.password", "root", "dora"),
        ("admin.user.delete", "root", "dora"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"username": "x y"},
            400,
            {
                "error": "invalid_request",
                "error_description": "invalid user name 'x y': use 1-128 letters, digits "
                "and . _ @ + -",
            },
        ),
        (
            {"username": "eve", "password": "short"},
            400,
            {
                "error": "invalid_request",
                "error_description": "a password must be between 8 and 1024 characters",
            },
        ),
        (
            {"username": "eve", "colour": "blue"},
            400,
            {
                "error": "invalid_request",
                "error_description": "'colour': Extra inputs are not permitted",
            },
        ),
        (
            {"username": "eve", "roles": "admin"},
            400,
            {
                "error": "invalid_request",
                "error_description": "'roles': Input should be a valid list",
            },
        ),
        (
            {"username": "eve", "roles": ["nope"]},
            404,
            {"error": "not_found", "error_description": "no role(s) nope"},
        ),
        (
            {"username": "ROOT"},
            409,
            {"error": "conflict", "error_description": "user ROOT already exists"},
        ),
    ],
    ids=["bad-name", "short-password", "unknown-member", "wrong-type", "unknown-role", "dup"],
)
async def test_bad_user_input_is_refused_clearly(client, admin, body, status, expected):
    response = await client.post("/admin/users", headers=admin, json=body)
    assert (response.status_code, response.json()) == (status, expected)


async def test_users_are_paged_with_a_next_link(client, runtime, admin, make_user):
    for name in ("u1", "u2", "u3"):
        await make_user(name, password=None)
    first = await client.get("/admin/users?search=u&limit=2", headers=admin)
    assert first.status_code == 200
    body = first.json()
    assert [u["username"] for u in body["items"]] == ["u1", "u2"]
    assert body["next"] == "/admin/users?search=u&limit=2&offset=2"
    second = (await client.get(body["next"], headers=admin)).json()
    assert [u["username"] for u in second["items"]] == ["u3"]
    assert second["next"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=ten", "offset=-1"])
async def test_bad_paging_is_400(client, admin, query):
    response = await client.get(f"/admin/users?{query}", headers=admin)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# ---------------------------------------------------------------- clients and API keys


async def test_client_secret_is_shown_once_and_rotation_kills_the_old_one(client, admin):
    created = await client.post(
        "/admin/clients", headers=admin, json={"name": "billing", "scopes": ["invoices:read"]}
    )
    assert created.status_code == 201
    body = created.json()
    client_id, secret = body["client_id"], body["client_secret"]
    assert secret.startswith("gp_cs_")
    shown = await client.get(f"/admin/clients/{client_id}", headers=admin)
    assert "client_secret" not in shown.json()
    listed = await client.get("/admin/clients", headers=admin)
    assert "client_secret" not in listed.json()["items"][0]
    assert secret not in listed.text + shown.text

    login = {"client_id": client_id, "client_secret": secret}
    assert (await client.post("/auth/login", json=login)).status_code == 200
    rotated = await client.post(f"/admin/clients/{client_id}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != secret
    assert (await client.post("/auth/login", json=login)).status_code == 401
    login["client_secret"] = new_secret
    assert (await client.post("/auth/login", json=login)).status_code == 200

    disabled = await client.post(f"/admin/clients/{client_id}/disable", headers=admin)
    assert disabled.json()["disabled"] is True
    assert (await client.post("/auth/login", json=login)).status_code == 401
    assert (await client.delete(f"/admin/clients/{client_id}", headers=admin)).status_code == 204
    gone = await client.get(f"/admin/clients/{client_id}", headers=admin)
    assert gone.status_code == 404


async def test_api_keys(client, admin, make_user):
    await make_user("carol", scopes=["docs:read", "docs:write"])
    created = await client.post(
        "/admin/api-keys",
        headers=admin,
        json={"user": "carol", "name": "laptop", "scopes": ["docs:read"], "expires_in": "30d"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["api_key"].startswith("gp_ak_")
    assert (body["name"], body["scopes"], body["revoked_at"]) == ("laptop", ["docs:read"], None)
    listed = (await client.get("/admin/api-keys?user=carol", headers=admin)).json()
    assert [k["id"] for k in listed["items"]] == [body["id"]]
    assert body["api_key"] not in str(listed)
    too_much = await client.post(
        "/admin/api-keys", headers=admin, json={"user": "carol", "scopes": ["billing"]}
    )
    assert (too_much.status_code, too_much.json()["error_description"]) == (
        400,
        "an API key cannot hold scopes its user lacks: billing",
    )
    bad_lifetime = await client.post(
        "/admin/api-keys", headers=admin, json={"user": "carol", "expires_in": "forever"}
    )
    assert bad_lifetime.status_code == 400
    assert (await client.delete(f"/admin/api-keys/{body['id']}", headers=admin)).status_code == 204
    again = await client.delete(f"/admin/api-keys/{body['id']}", headers=admin)
    assert again.status_code == 404
    login = await client.post("/auth/login", json={"username": "carol", "api_key": body["api_key"]})
    assert login.status_code == 401


# ---------------------------------------------------------------- sessions, keys, orgs, roles


async def test_sessions_can_be_listed_and_revoked(client, admin, make_user):
    await make_user("alice")
    login = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    token, session_id = login.json()["access_token"], login.json()["session_id"]
    listed = (await client.get("/admin/sessions?user=alice", headers=admin)).json()
    assert [(s["id"], s["subject"], s["client_ip"]) for s in listed["items"]] == [
        (session_id, "alice", CLIENT_ADDRESS)
    ]
    assert (await client.delete(f"/admin/sessions/{session_id}", headers=admin)).status_code == 204
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.status_code, me.json()["reason"]) == (401, "token_revoked")
    assert (await client.get("/admin/sessions?user=alice", headers=admin)).json()["items"] == []
    ended = (await client.get("/admin/sessions?user=alice&active=false", headers=admin)).json()
    assert [s["revoke_reason"] for s in ended["items"]] == ["admin"]
    again = await client.delete(f"/admin/sessions/{session_id}", headers=admin)
    assert again.status_code == 404


async def test_signing_key_rotation(client, admin):
    # Two keys before: the ES256 access-token key and the RS256 ID-token key (issue 17).
    before = (await client.get("/admin/signing-keys", headers=admin)).json()["items"]
    assert sorted((k["alg"], k["status"]) for k in before) == [
        ("ES256", "active"),
        ("RS256", "active"),
    ]
    rotated = await client.post("/admin/signing-keys/rotate", headers=admin)
    assert rotated.status_code == 201
    assert rotated.json()["alg"] == "ES256"  # the answer is the new access-token key
    after = (await client.get("/admin/signing-keys", headers=admin)).json()["items"]
    # Rotation replaces both: each old key retires, one new key of each algorithm is active.
    old_kids = {k["kid"] for k in before}
    new_id_token_keys = [
        k["kid"] for k in after if k["alg"] == "RS256" and k["kid"] not in old_kids
    ]
    assert len(new_id_token_keys) == 1
    assert {k["kid"]: k["status"] for k in after} == {
        **{k["kid"]: "retired" for k in before},
        rotated.json()["kid"]: "active",
        new_id_token_keys[0]: "active",
    }
    # The admin's token (signed by the old key) keeps working.
    assert (await client.get("/admin/users", headers=admin)).status_code == 200


async def test_orgs_and_roles(client, admin):
    org = await client.post("/admin/orgs", headers=admin, json={"uid": "acme", "name": "Acme"})
    assert (org.status_code, org.json()["uid"], org.json()["name"]) == (201, "acme", "Acme")
    assert [o["uid"] for o in (await client.get("/admin/orgs", headers=admin)).json()["items"]] == [
        "acme"
    ]
    role = await client.put(
        "/admin/roles/editor", headers=admin, json={"scopes": ["docs:write", "docs:read"]}
    )
    assert role.json() == {
        "name": "editor",
        "scopes": ["docs:read", "docs:write"],
        "description": "",
    }
    roles = (await client.get("/admin/roles?limit=1", headers=admin)).json()
    assert [r["name"] for r in roles["items"]] == ["admin"]
    assert roles["next"] == "/admin/roles?limit=1&offset=1"
    assert (await client.delete("/admin/roles/editor", headers=admin)).status_code == 204
    assert (await client.delete("/admin/roles/editor", headers=admin)).status_code == 404


async def test_an_org_is_renamed_and_deleted_only_when_unused(client, runtime, admin, make_user):
    await client.post("/admin/orgs", headers=admin, json={"uid": "acme", "name": "Acme"})
    renamed = await client.patch("/admin/orgs/acme", headers=admin, json={"name": "Acme Ltd"})
    assert (renamed.status_code, renamed.json()["uid"], renamed.json()["name"]) == (
        200,
        "acme",
        "Acme Ltd",
    )
    assert (await runtime.admin.get_org("acme")).name == "Acme Ltd"
    await make_user("alice", org="acme")
    await runtime.admin.add_client("billing", org="acme", actor="test")
    refused = await client.delete("/admin/orgs/acme", headers=admin)
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "conflict",
        "error_description": "org acme is still used by users, 1 client(s): "
        "move or delete them first",
    }
    await runtime.admin.delete_user("alice", actor="test")
    for found in await runtime.admin.list_clients():
        await runtime.admin.delete_client(found.client_id, actor="test")
    assert (await client.delete("/admin/orgs/acme", headers=admin)).status_code == 204
    assert (await client.delete("/admin/orgs/acme", headers=admin)).status_code == 404
    missing = await client.patch("/admin/orgs/acme", headers=admin, json={"name": "x"})
    assert missing.status_code == 404
    events = await runtime.admin.audit(AuditQuery(event="admin.org."))
    assert [(e.event, e.target, e.details) for e in reversed(events)] == [
        ("admin.org.create", "acme", {}),
        ("admin.org.update", "acme", {"name": "Acme Ltd"}),
        ("admin.org.delete", "acme", {}),
    ]


# ---------------------------------------------------------------- audit and dashboard


async def test_audit_filters_and_keyset_pages(client, admin):
    for name in ("a1", "a2", "a3"):
        await client.post("/admin/users", headers=admin, json={"username": name})
    await client.post("/auth/login", json={"username": "a1", "password": "wrong password"})
    page = (await client.get("/admin/audit?event=admin.user.&limit=2", headers=admin)).json()
    assert [(e["event"], e["target"]) for e in page["items"]] == [
        ("admin.user.create", "a3"),
        ("admin.user.create", "a2"),
    ]
    before = page["items"][-1]["id"]
    assert page["next"] == f"/admin/audit?event=admin.user.&limit=2&before_id={before}"
    rest = (await client.get(page["next"], headers=admin)).json()
    assert [e["target"] for e in rest["items"]] == ["a1", "root"]  # root by the fixture
    assert rest["next"] is None
    failures = (await client.get("/admin/audit?user=a1&event=login", headers=admin)).json()
    assert [(e["outcome"], e["details"]["reason"], e["ip"]) for e in failures["items"]] == [
        ("failure", "invalid_credentials", CLIENT_ADDRESS)  # a1 has no password
    ]
    recent = (await client.get("/admin/audit?since=1h&event=login", headers=admin)).json()
    assert len(recent["items"]) == 2  # root's login and a1's failure
    future = await client.get("/admin/audit?since=2099-01-01T00:00:00Z", headers=admin)
    assert future.json() == {"items": [], "next": None}
    bad = await client.get("/admin/audit?since=yesterday", headers=admin)
    assert (bad.status_code, bad.json()["error_description"]) == (
        400,
        "'since' must be an ISO 8601 time or a duration such as 15m, 24h, 7d",
    )


async def test_dashboard_figures(client, runtime, admin, make_user):
    await make_user("alice")
    for password in ("wrong one", "wrong two", PASSWORD):
        await client.post("/auth/login", json={"username": "alice", "password": password})
    body = (await client.get("/admin/dashboard?minutes=5", headers=admin)).json()
    assert body["window_minutes"] == 5
    assert len(body["per_minute"]) == 5
    assert (body["logins"], body["failures"], body["logins_last_minute"]) == (2, 2, 2)
    assert body["active_sessions"] == 2  # root's and alice's
    assert body["refused_addresses"] == [{"address": CLIENT_ADDRESS, "failures": 2}]


async def test_the_admin_api_is_in_the_openapi_description(client):
    spec = (await client.get("/openapi.json")).json()
    admin_paths = {path for path in spec["paths"] if path.startswith("/admin/")}
    assert {
        "/admin/orgs",
        "/admin/roles/{name}",
        "/admin/users",
        "/admin/users/{user}",
        "/admin/clients/{client_id}/rotate-secret",
        "/admin/api-keys",
        "/admin/sessions/{session_id}",
        "/admin/signing-keys/rotate",
        "/admin/audit",
        "/admin/dashboard",
    } <= admin_paths
    create = spec["paths"]["/admin/clients"]["post"]
    assert create["security"] == [{"bearer": []}]
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ClientWithSecret"
    }
    assert "client_secret" in spec["components"]["schemas"]["ClientWithSecret"]["properties"]
    assert set(spec["components"]["schemas"]["UserPage"]["properties"]) == {"items", "next"}


async def test_unknown_admin_path_is_a_json_404(client, admin):
    response = await client.get("/admin/nothing", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_admin_responses_are_not_cached(client, admin):
    response = await client.get("/admin/users", headers=admin)
    assert response.headers["cache-control"] == "no-store"


async def test_trusted_issuers_and_identity_links(client, runtime, admin, make_user):
    new = {
        "issuer": "https://tenant.eu.auth0.com/",
        "audiences": ["https://api.example.com"],
        "name": "auth0",
        "client_id": "spa",
        "match": "email",
        "auto_provision": False,
    }
    created = await client.post("/admin/issuers", headers=admin, json=new)
    assert created.status_code == 201
    assert created.json() == {
        "name": "auth0",
        "issuer": "https://tenant.eu.auth0.com/",
        "audiences": ["https://api.example.com"],
        "jwks_uri": None,
        "algorithms": ["RS256"],
        "leeway": 60.0,
        "match": "email",
        "allowed_subjects": [],
        "auto_provision": False,
        "provision_org": None,
        "provision_roles": [],
        "client_id": "spa",
        "source": "database",
    }
    listed = await client.get("/admin/issuers", headers=admin)
    assert [i["name"] for i in listed.json()["items"]] == ["auth0"]
    hmac = await client.post(
        "/admin/issuers",
        headers=admin,
        json={**new, "name": "other", "issuer": "https://other/", "algorithms": ["HS256"]},
    )
    assert hmac.status_code == 400
    assert "unsupported algorithm(s) HS256" in hmac.json()["error_description"]
    duplicate = await client.post("/admin/issuers", headers=admin, json=new)
    assert duplicate.status_code == 409

    await make_user("alice")
    linked = await client.post(
        "/admin/users/alice/identities",
        headers=admin,
        json={"issuer": "auth0", "subject": "auth0|1"},
    )
    assert (linked.status_code, linked.json()) == (
        201,
        {"issuer": "https://tenant.eu.auth0.com/", "subject": "auth0|1"},
    )
    identities = await client.get("/admin/users/alice/identities", headers=admin)
    assert identities.json() == {
        "items": [{"issuer": "https://tenant.eu.auth0.com/", "subject": "auth0|1"}],
        "next": None,
    }
    unlinked = await client.delete(
        "/admin/users/alice/identities",
        headers=admin,
        params={"issuer": "auth0", "subject": "auth0|1"},
    )
    assert unlinked.status_code == 204
    removed = await client.delete("/admin/issuers/auth0", headers=admin)
    assert removed.status_code == 204
    assert (await client.get("/admin/issuers", headers=admin)).json()["items"] == []
    events = [e.event for e in await runtime.storage.audit.query(AuditQuery(event="admin."))]
    assert events[:4] == [
        "admin.issuer.delete",
        "admin.identity.unlink",
        "admin.identity.link",
        "admin.user.create",
    ]


async def test_a_long_value_is_not_echoed_in_full(client, admin):
    """Error messages quote what the caller sent, cut to 64 characters (issue 15)."""
    long = "A" * 5000
    clipped = "A" * 64 + "…"
    duration = f"'expires_in': invalid duration '{clipped}': use e.g. 900, '15m', '72h' or '30d'"
    extra = f"'{clipped}': Extra inputs are not permitted"
    scope = f"invalid scope name(s): {clipped}"
    cases = [
        ("GET", f"/admin/users/{long}", None, f"no user {clipped}"),
        ("DELETE", f"/admin/clients/{long}", None, f"no client {clipped}"),
        ("POST", "/admin/users", {"username": "eve", long: 1}, extra),
        ("POST", "/admin/users", {"username": "eve", "roles": [long]}, f"no role(s) {clipped}"),
        ("POST", "/admin/users", {"username": "eve", "scopes": [long]}, scope),
        ("POST", "/admin/api-keys", {"user": "root", "expires_in": long[:300]}, duration),
    ]  # fmt: skip
    for method, path, body, expected in cases:
        response = await client.request(method, path, headers=admin, json=body)
        assert response.status_code in {400, 404}, path
        assert response.json()["error_description"] == expected
        assert len(response.text) < 400
