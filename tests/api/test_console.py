"""The admin console over the ASGI transport: sign-in, cookie flags, csrf, confirmation,
secrets shown once, and refusals. The same flows run in a real browser in tests/browser/."""

from __future__ import annotations

import re

import httpx
import pytest

from gatepass.app.container import open_container
from gatepass.core.external import TrustedIssuer
from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.http.app import create_app
from tests.api.conftest import CLIENT_ADDRESS
from tests.conftest import PASSWORD, make_settings

LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def admin_user(runtime, make_user):
    await runtime.admin.put_role("admin", [ADMIN_SCOPE], actor="test")
    return await make_user("root", roles=["admin"])


def found(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None, text
    return match.group(1)


async def sign_in(client, username="root", password=PASSWORD, **extra):
    page = await client.get("/console/login")
    token = found(LOGIN_CSRF, page.text)
    form = {"username": username, "password": password, "login_csrf": token, **extra}
    return await client.post("/console/login", data=form)


async def csrf_of(client, path="/console") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return found(CSRF, page.text)


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


# ---------------------------------------------------------------- signing in


async def test_pages_need_a_session(client):
    response = await client.get("/console/users?search=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fusers%3Fsearch%3Dx"
    assert (await client.get("/console")).headers["location"] == "/console/login"
    live = await client.get("/console/dashboard/live")
    assert live.status_code == 401


async def test_sign_in_sets_a_strict_httponly_cookie(client, admin_user):
    response = await sign_in(client, next="/console/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/users"
    cookie = cookie_header(response, "gatepass_console")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert attributes == {"httponly", "max-age=3600", "path=/console", "samesite=strict"}
    assert (await client.get("/console/users")).status_code == 200


async def test_the_cookie_is_secure_over_https(tmp_path, clock, make_user, runtime, admin_user):
    settings = make_settings(tmp_path / "var", issuer="https://auth.example.com")
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        response = await sign_in(https)
    assert response.status_code == 303
    assert "; secure" in cookie_header(response, "gatepass_console").lower()
    assert "; secure" in cookie_header(response, "gatepass_console_login").lower()


async def test_wrong_password_shows_an_error(client, runtime, admin_user):
    response = await sign_in(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "gatepass_console=" not in response.headers.get("set-cookie", "")
    failures = await runtime.admin.audit(AuditQuery(event="login", user="root"))
    assert [(e.outcome, e.surface, e.ip) for e in failures] == [
        ("failure", "console", CLIENT_ADDRESS)
    ]


async def test_sign_in_without_the_form_token_is_refused(client, admin_user):
    await client.get("/console/login")
    response = await client.post(
        "/console/login", data={"username": "root", "password": PASSWORD, "login_csrf": "forged"}
    )
    assert response.status_code == 403
    assert "The sign-in form had expired" in response.text
    assert "gatepass_console=" not in response.headers.get("set-cookie", "")


async def test_a_non_admin_is_refused_without_a_session(client, runtime, make_user, admin_user):
    await make_user("alice", scopes=["docs:read"])
    response = await sign_in(client, username="alice")
    assert response.status_code == 403
    assert "This account is not a gatepass administrator" in response.text
    cookies = response.headers.get_list("set-cookie")
    assert not any(c.startswith("gatepass_console=") for c in cookies)
    # The console asks for gatepass:admin by name: refused before any session exists.
    assert await runtime.admin.list_sessions("alice", active_only=False) == []
    await runtime.storage.audit.flush()
    [event] = await runtime.storage.audit.query(AuditQuery(user="alice", event="login"))
    assert (event.outcome, event.surface, event.details["reason"]) == (
        "failure",
        "console",
        "invalid_scope",
    )


async def test_losing_the_admin_role_ends_console_access(client, runtime, admin_user, clock):
    await sign_in(client)
    await runtime.admin.update_user("root", roles=[], actor="test")
    clock.advance(3)  # past the principal cache
    response = await client.get("/console/users")
    assert response.status_code == 403
    assert "not a gatepass administrator" in response.text


async def test_next_cannot_leave_the_console(client, admin_user):
    for target in ("https://evil.example/", "//evil.example/", "/auth/me", "/console/login"):
        response = await sign_in(client, next=target)
        assert response.headers["location"] == "/console", target


async def test_sign_out_revokes_the_session(client, runtime, admin_user):
    await sign_in(client)
    old_cookie = client.cookies["gatepass_console"]
    response = await client.post("/console/logout", data={"csrf": await csrf_of(client)})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?done=signed-out"
    assert "max-age=0" in cookie_header(response, "gatepass_console").lower()
    assert await runtime.admin.list_sessions("root") == []
    client.cookies.set("gatepass_console", old_cookie, domain="testserver", path="/console")
    again = await client.get("/console")
    assert (again.status_code, again.headers["location"]) == (303, "/console/login")


# ---------------------------------------------------------------- csrf and confirmation


async def test_a_change_without_the_csrf_token_is_refused(client, runtime, admin_user, make_user):
    await make_user("victim")
    await sign_in(client)
    for form in ({"confirmed": "yes"}, {"confirmed": "yes", "csrf": "guessed"}):
        response = await client.post("/console/users/victim/delete", data=form)
        assert response.status_code == 403
        assert "security token, so it was not made" in response.text
    assert (await runtime.admin.get_user("victim")).username == "victim"


async def test_a_cross_site_change_is_refused(client, runtime, admin_user, make_user):
    await make_user("victim")
    await sign_in(client)
    csrf = await csrf_of(client)
    for headers in ({"sec-fetch-site": "cross-site"}, {"origin": "https://evil.example"}):
        response = await client.post(
            "/console/users/victim/delete",
            data={"csrf": csrf, "confirmed": "yes"},
            headers=headers,
        )
        assert response.status_code == 403
        assert "came from another site" in response.text
    assert (await runtime.admin.get_user("victim")).username == "victim"


async def test_destructive_actions_need_confirmation(client, runtime, admin_user, make_user):
    await make_user("dora")
    await sign_in(client)
    csrf = await csrf_of(client)
    asked = await client.post("/console/users/dora/disable", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "Disable user dora? Their sessions end at once." in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert (await runtime.admin.get_user("dora")).disabled is False
    done = await client.post("/console/users/dora/disable", data={"csrf": csrf, "confirmed": "yes"})
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/console/users/dora?done=user-disabled",
    )
    assert (await runtime.admin.get_user("dora")).disabled is True
    events = await runtime.admin.audit(AuditQuery(event="admin.user.disable"))
    assert [(e.actor, e.target) for e in events] == [("root", "dora")]


async def test_end_all_sessions_of_a_user(client, runtime, admin_user, make_user):
    """The console's "End all sessions": token sessions and browser sign-ins end, the account
    stays enabled; confirmed first, audited."""
    await make_user("dora")
    login = await client.post("/auth/login", json={"username": "dora", "password": PASSWORD})
    token = login.json()["access_token"]
    signin = await runtime.oidc.signins.with_password(
        "dora", PASSWORD, RequestContext(surface="oidc")
    )
    await sign_in(client)
    page = await client.get("/console/users/dora")
    assert 'action="/console/users/dora/end-sessions"' in page.text
    csrf = await csrf_of(client)
    asked = await client.post("/console/users/dora/end-sessions", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "End every session and browser sign-in of dora?" in asked.text
    assert await runtime.oidc.current_signin(signin.cookie) is not None
    done = await client.post(
        "/console/users/dora/end-sessions", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/console/users/dora?done=sessions-ended",
    )
    assert await runtime.oidc.current_signin(signin.cookie) is None
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert (await runtime.admin.get_user("dora")).disabled is False
    events = await runtime.admin.audit(AuditQuery(event="admin.user.sessions_end"))
    assert [
        (e.actor, e.target, e.details["sessions"], e.details["signin_sessions"]) for e in events
    ] == [("root", "dora", 1, 1)]
    shown = await client.get("/console/users/dora?done=sessions-ended")
    assert "Every session and browser sign-in of the user ended." in shown.text


async def test_create_user_with_errors_shown_in_the_form(client, runtime, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/users/new")
    form = {"csrf": csrf, "username": "dora", "password": "short", "password_confirm": "short"}
    bad = await client.post("/console/users", data=form)
    assert bad.status_code == 400
    assert "a password must be between 8 and 1024 characters" in bad.text
    assert 'value="dora"' in bad.text  # what was typed is kept
    form.update(password="a good password", password_confirm="a good password", roles="admin")
    ok = await client.post("/console/users", data=form)
    assert (ok.status_code, ok.headers["location"]) == (
        303,
        "/console/users/dora?done=user-created",
    )
    assert (await runtime.admin.get_user("dora")).roles == ("admin",)
    dup = await client.post("/console/users", data=form)
    assert dup.status_code == 409
    assert "user dora already exists" in dup.text


async def test_a_client_secret_is_shown_once(client, runtime, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/clients/new")
    created = await client.post(
        "/console/clients", data={"csrf": csrf, "name": "billing", "scopes": "invoices:read"}
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    secret = found(re.compile(r'id="secret"[^>]*>(gp_cs_[^<]+)<'), created.text)
    client_id = (await runtime.admin.list_clients())[0].client_id
    for path in ("/console/clients", f"/console/clients/{client_id}", "/console/audit"):
        page = await client.get(path)
        assert page.status_code == 200
        assert secret not in page.text
    login = await client.post("/auth/login", json={"client_id": client_id, "client_secret": secret})
    assert login.status_code == 200


async def test_pages_render_for_an_admin(client, runtime, admin_user, make_user, make_client):
    await make_user("alice")
    await runtime.admin.add_api_key("alice", name="ci", actor="test")
    created = await make_client("svc")
    await client.post("/auth/login", json={"username": "alice", "password": "wrong"})
    await sign_in(client)
    for path, needle in [
        ("/console", "failed logins in the last hour"),
        ("/console/dashboard/live", "Most refused addresses"),
        ("/console/users?search=ali", "alice"),
        ("/console/users/alice", "New API key"),
        ("/console/clients", created.client.client_id),
        ("/console/api-keys", "ci"),
        ("/console/sessions", "root"),
        ("/console/keys", "active"),
        ("/console/audit?event=login&since=1h", "invalid_credentials"),
        ("/console/orgs", "No organizations yet."),
        ("/console/orgs/new", "Create organization"),
        ("/console/roles", "gatepass:admin"),
        ("/console/roles/new", "Create role"),
        ("/console/roles/admin", "Save role"),
        ("/console/issuers", "No trusted issuers yet."),
        ("/console/issuers/new", "EdDSA"),
    ]:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert needle in page.text, path
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_unknown_things_get_a_404_page(client, admin_user):
    await sign_in(client)
    response = await client.get("/console/users/nobody")
    assert response.status_code == 404
    assert "no user nobody" in response.text


async def test_static_files_are_served_from_the_package(client):
    page = await client.get("/console/login")
    css = found(re.compile(r'href="(/console/static/console\.css\?v=[0-9a-f]+)"'), page.text)
    response = await client.get(css)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/console/static/../../config.py")).status_code == 404
    assert (await client.get("/console/static/nothing.js")).status_code == 404


async def test_the_console_can_be_switched_off(tmp_path, runtime):
    settings = make_settings(tmp_path / "var", console_enabled=False)
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/console/login")).status_code == 404


async def test_only_a_console_token_is_accepted_in_the_cookie(client, runtime, admin_user):
    native = await client.post("/auth/login", json={"username": "root", "password": PASSWORD})
    token = native.json()["access_token"]  # an admin token, but not a console sign-in
    await runtime.admin.add_user("target", password=None, actor="test")
    client.cookies.set("gatepass_console", token, domain="testserver", path="/console")
    page = await client.get("/console/users")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/login")
    client.cookies.set("gatepass_console", token, domain="testserver", path="/console")
    change = await client.post(
        "/console/users/target/delete", data={"csrf": "anything", "confirmed": "yes"}
    )
    assert (change.status_code, change.headers["location"]) == (
        303,
        "/console/login?done=session-expired",
    )
    assert (await runtime.admin.get_user("target")).username == "target"


# ---------------------------------------------------------------- every route, from the table

# The sign-in's second step is before a session too; its login form token is tested in
# tests/mfa/test_console_mfa.py.
PUBLIC = {
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("POST", "/console/login/mfa"),
    ("POST", "/console/login/enrol"),  # its login form's csrf: tests/oidc/test_hosted_enrolment.py
    ("GET", "/console/static/{name}"),
}
REFUSED_CSRF = "security token, so it was not made"


def console_routes(client) -> list[tuple[str, str, str]]:
    """(method, route path, a request path) for every console route the app registers."""
    app = client._transport.app
    routes = []
    for route in app.routes:
        if not route.path.startswith("/console"):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) not in PUBLIC:
                routes.append((method, route.path, re.sub(r"\{[^}]+\}", "nobody", route.path)))
    return routes


async def test_the_route_table_holds_every_console_page(client):
    paths = {(method, path) for method, path, _ in console_routes(client)}
    assert {
        ("GET", "/console/orgs"),
        ("POST", "/console/orgs/{uid}/delete"),
        ("POST", "/console/roles/{name}"),
        ("POST", "/console/issuers/{name}/remove"),
        ("POST", "/console/users/{user}/identities/remove"),
    } <= paths


async def test_every_console_route_needs_a_session(client, admin_user):
    for method, route, path in console_routes(client):
        response = await client.request(method, path, data={"confirmed": "yes"})
        if route == "/console/dashboard/live":  # a fragment fetched by the page's script
            assert response.status_code == 401, route
        elif method == "GET":
            assert response.status_code == 303, route
            assert response.headers["location"].startswith("/console/login"), route
        else:
            assert (response.status_code, response.headers["location"]) == (
                303,
                "/console/login?done=session-expired",
            ), route


async def test_every_console_change_needs_the_csrf_token(client, admin_user):
    await sign_in(client)
    changes = [(route, path) for method, route, path in console_routes(client) if method == "POST"]
    assert changes
    for route, path in changes:
        for form in ({"confirmed": "yes"}, {"confirmed": "yes", "csrf": "guessed"}):
            response = await client.post(path, data=form)
            assert response.status_code == 403, route
            assert REFUSED_CSRF in response.text, route
        foreign = await client.post(
            path,
            data={"confirmed": "yes", "csrf": await csrf_of(client)},
            headers={"sec-fetch-site": "cross-site"},
        )
        assert foreign.status_code == 403, route
        assert "came from another site" in foreign.text, route
    assert (await client.get("/console/users")).status_code == 200  # still signed in


async def test_every_console_answer_refuses_framing(client, admin_user):
    await sign_in(client)
    for method, route, path in console_routes(client):
        response = await client.request(method, path, data={"csrf": "x"})
        assert response.status_code < 500, route
        assert response.headers["x-frame-options"] == "DENY", route
        if response.status_code != 303:
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"], route


# ---------------------------------------------------------------- organizations


async def test_orgs_are_created_renamed_and_deleted(client, runtime, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/orgs/new")
    bad = await client.post("/console/orgs", data={"csrf": csrf, "uid": "no spaces", "name": "A"})
    assert bad.status_code == 400
    assert "invalid org name &#39;no spaces&#39;" in bad.text
    assert 'value="no spaces"' in bad.text
    form = {"csrf": csrf, "uid": "acme", "name": "Acme"}
    created = await client.post("/console/orgs", data=form)
    assert (created.status_code, created.headers["location"]) == (
        303,
        "/console/orgs/acme?done=org-created",
    )
    dup = await client.post("/console/orgs", data=form)
    assert dup.status_code == 409
    assert "org acme already exists" in dup.text
    listed = await client.get("/console/orgs")
    assert '<a href="/console/orgs/acme"><code>acme</code></a>' in listed.text

    renamed = await client.post("/console/orgs/acme", data={"csrf": csrf, "name": "Acme Ltd"})
    assert (renamed.status_code, renamed.headers["location"]) == (
        303,
        "/console/orgs/acme?done=org-renamed",
    )
    page = await client.get(renamed.headers["location"])
    assert "The organization is renamed." in page.text
    assert "<h1>Acme Ltd</h1>" in page.text

    asked = await client.post("/console/orgs/acme/delete", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "Delete organization acme? This cannot be undone." in asked.text
    assert (await runtime.admin.get_org("acme")).name == "Acme Ltd"
    deleted = await client.post(
        "/console/orgs/acme/delete", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert (deleted.status_code, deleted.headers["location"]) == (
        303,
        "/console/orgs?done=org-deleted",
    )
    assert await runtime.admin.list_orgs() == []
    events = await runtime.admin.audit(AuditQuery(event="admin.org."))
    assert [(e.event, e.actor) for e in reversed(events)] == [
        ("admin.org.create", "root"),
        ("admin.org.update", "root"),
        ("admin.org.delete", "root"),
    ]
    gone = await client.post("/console/orgs/acme", data={"csrf": csrf, "name": "x"})
    assert gone.status_code == 404
    assert "no org acme" in gone.text


async def test_an_org_in_use_is_not_deleted(client, runtime, admin_user, make_user):
    await runtime.admin.add_org("acme", "Acme", actor="test")
    await make_user("alice", org="acme")
    await sign_in(client)
    csrf = await csrf_of(client, "/console/orgs/acme")
    refused = await client.post(
        "/console/orgs/acme/delete", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert refused.status_code == 409
    assert "org acme is still used by users: move or delete them first" in refused.text
    assert '<a href="/console/users/alice">alice</a>' in refused.text  # who, on the same page
    await runtime.admin.delete_user("alice", actor="test")
    await runtime.admin.add_issuer(
        TrustedIssuer(
            issuer="https://idp.example/",
            name="corp",
            audiences=("api",),
            auto_provision=True,
            provision_org="acme",
        ),
        actor="test",
    )
    again = await client.post("/console/orgs/acme/delete", data={"csrf": csrf, "confirmed": "yes"})
    assert again.status_code == 409
    assert "still used by issuer corp (provisions into it)" in again.text
    assert (await runtime.admin.get_org("acme")).uid == "acme"


# ---------------------------------------------------------------- roles


async def test_roles_are_created_edited_and_deleted(client, runtime, admin_user, make_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/roles/new")
    empty = await client.post("/console/roles", data={"csrf": csrf, "name": "editor", "scopes": ""})
    assert empty.status_code == 400
    assert "give the role at least one scope" in empty.text
    assert 'value="editor"' in empty.text
    form = {
        "csrf": csrf,
        "name": "editor",
        "scopes": "docs:read docs:write",
        "description": "Edits",
    }
    created = await client.post("/console/roles", data=form)
    assert (created.status_code, created.headers["location"]) == (
        303,
        "/console/roles/editor?done=role-created",
    )
    again = await client.post("/console/roles", data={**form, "scopes": "other"})
    assert again.status_code == 409
    assert "role editor already exists: edit it on its page" in again.text
    assert [(r.name, sorted(r.scopes)) for r in await runtime.admin.list_roles()] == [
        ("admin", [ADMIN_SCOPE]),
        ("editor", ["docs:read", "docs:write"]),
    ]

    page = await client.get("/console/roles/editor")
    assert 'value="docs:read docs:write"' in page.text
    bad = await client.post("/console/roles/editor", data={"csrf": csrf, "scopes": "bad\x7fscope"})
    assert bad.status_code == 400
    assert "invalid scope name(s)" in bad.text
    saved = await client.post("/console/roles/editor", data={"csrf": csrf, "scopes": "docs:read"})
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/console/roles/editor?done=role-saved",
    )
    assert await runtime.auth.scopes_of_roles(("editor",)) == {"docs:read"}
    missing = await client.post("/console/roles/ghost", data={"csrf": csrf, "scopes": "x"})
    assert missing.status_code == 404
    assert [r.name for r in await runtime.admin.list_roles()] == ["admin", "editor"]

    # Deleting a role its users hold: as the admin API does, they keep the name, lose the scopes.
    await make_user("dora", roles=["editor"])
    asked = await client.post("/console/roles/editor/delete", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "Delete role editor? Users holding it keep its name" in asked.text
    deleted = await client.post(
        "/console/roles/editor/delete", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert (deleted.status_code, deleted.headers["location"]) == (
        303,
        "/console/roles?done=role-deleted",
    )
    assert (await runtime.admin.get_user("dora")).roles == ("editor",)
    login = await client.post("/auth/login", json={"username": "dora", "password": PASSWORD})
    assert login.json()["scope"] == ""
    events = await runtime.admin.audit(AuditQuery(event="admin.role."))
    assert [(e.event, e.actor) for e in reversed(events)] == [
        ("admin.role.put", "test"),
        ("admin.role.put", "root"),
        ("admin.role.put", "root"),
        ("admin.role.delete", "root"),
    ]


async def test_deleting_the_admin_role_is_said_to_lock_admins_out(client, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/roles/admin")
    asked = await client.post("/console/roles/admin/delete", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "It grants gatepass:admin" in asked.text


# ---------------------------------------------------------------- trusted issuers and links

ISSUER_FORM = {
    "issuer": "https://tenant.eu.auth0.com/",
    "audiences": "https://api.example.com",
    "name": "auth0",
    "algorithms": "RS256",
    "leeway": "60s",
    "match": "sub",
    "client_id": "spa",
}


async def test_issuers_are_added_shown_and_removed(client, runtime, admin_user, make_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/issuers/new")
    for changes, message in [
        ({"audiences": ""}, "&#39;audiences&#39;: Tuple should have at least 1 item"),
        ({"issuer": "tenant.example"}, "&#39;issuer&#39;: Value error, must be an http(s) URL"),
        ({"algorithms": "HS256"}, "unsupported algorithm(s) HS256"),
        ({"leeway": "soon"}, "&#39;leeway&#39;"),
        ({"name": "a b"}, "invalid issuer name &#39;a b&#39;"),
        ({"auto_provision": "yes", "provision_org": "nowhere"}, "no org nowhere"),
    ]:
        bad = await client.post("/console/issuers", data={"csrf": csrf, **ISSUER_FORM, **changes})
        assert bad.status_code in (400, 404), changes
        assert message in bad.text, changes
        assert 'value="spa"' in bad.text, changes  # what was typed is kept
    added = await client.post("/console/issuers", data={"csrf": csrf, **ISSUER_FORM})
    assert (added.status_code, added.headers["location"]) == (
        303,
        "/console/issuers/auth0?done=issuer-added",
    )
    (issuer,) = await runtime.admin.list_issuers()
    assert (issuer.issuer, issuer.audiences, issuer.client_id, issuer.source) == (
        "https://tenant.eu.auth0.com/",
        ("https://api.example.com",),
        "spa",
        "database",
    )
    dup = await client.post("/console/issuers", data={"csrf": csrf, **ISSUER_FORM})
    assert dup.status_code == 409
    assert "issuer auth0 (https://tenant.eu.auth0.com/) is already trusted" in dup.text
    page = await client.get("/console/issuers/auth0")
    assert "https://tenant.eu.auth0.com/" in page.text
    assert "by discovery" in page.text
    assert "auth0" in (await client.get("/console/issuers")).text

    await make_user("alice")
    await runtime.admin.link_identity("alice", "auth0", "auth0|1", actor="test")
    asked = await client.post("/console/issuers/auth0/remove", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "every identity link made through it is removed" in asked.text
    assert len(await runtime.admin.list_issuers()) == 1
    removed = await client.post(
        "/console/issuers/auth0/remove", data={"csrf": csrf, "confirmed": "yes"}
    )
    assert (removed.status_code, removed.headers["location"]) == (
        303,
        "/console/issuers?done=issuer-removed",
    )
    assert await runtime.admin.list_issuers() == []
    assert await runtime.admin.list_identities("alice") == []  # as the admin API: links go too
    events = await runtime.admin.audit(AuditQuery(event="admin.issuer."))
    assert [(e.event, e.actor) for e in reversed(events)] == [
        ("admin.issuer.create", "root"),
        ("admin.issuer.delete", "root"),
    ]


async def test_an_issuer_from_the_config_file_is_not_removed(tmp_path, clock, runtime):
    settings = make_settings(
        tmp_path / "other",
        issuers=[{"issuer": "https://idp.example/", "audiences": ["api"], "name": "corp"}],
    )
    configured = await open_container(settings, clock=clock, initialize=True)
    try:
        await configured.admin.put_role("admin", [ADMIN_SCOPE], actor="test")
        await configured.admin.add_user("root", password=PASSWORD, roles=["admin"], actor="test")
        app = create_app(settings, runtime=configured)
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await sign_in(http)
            page = await http.get("/console/issuers/corp")
            assert "defined in the config file; remove it there" in page.text
            assert "/console/issuers/corp/remove" not in page.text
            forced = await http.post(
                "/console/issuers/corp/remove",
                data={"csrf": found(CSRF, page.text), "confirmed": "yes"},
            )
            assert forced.status_code == 400
            assert "issuer corp is defined in the config file" in forced.text
    finally:
        await configured.close()


async def test_identity_links_are_made_and_removed_on_a_users_page(
    client, runtime, admin_user, make_user
):
    await runtime.admin.add_issuer(
        TrustedIssuer(issuer="https://tenant.eu.auth0.com/", name="auth0", audiences=("api",)),
        actor="test",
    )
    await make_user("alice")
    await make_user("bob")
    await sign_in(client)
    page = await client.get("/console/users/alice")
    assert "No linked identities." in page.text
    csrf = found(CSRF, page.text)
    link = {"csrf": csrf, "issuer": "auth0", "subject": "auth0|1"}
    linked = await client.post("/console/users/alice/identities", data=link)
    assert (linked.status_code, linked.headers["location"]) == (
        303,
        "/console/users/alice?done=identity-linked",
    )
    page = await client.get(linked.headers["location"])
    assert "The external identity now logs in as this user." in page.text
    assert "<code>auth0|1</code>" in page.text
    assert await runtime.admin.list_identities("alice") == [
        ("https://tenant.eu.auth0.com/", "auth0|1")
    ]

    taken = await client.post("/console/users/bob/identities", data=link)
    assert taken.status_code == 409
    assert "this external identity is linked to another user" in taken.text
    assert 'value="auth0|1"' in taken.text  # shown on bob's page, with what was typed
    assert "<h1>bob</h1>" in taken.text
    unknown = await client.post("/console/users/bob/identities", data={**link, "issuer": "nowhere"})
    assert unknown.status_code == 404
    assert "no trusted issuer nowhere" in unknown.text
    empty = await client.post("/console/users/bob/identities", data={**link, "subject": " "})
    assert empty.status_code == 400
    assert "an external subject is 1-512 characters" in empty.text

    remove = {"csrf": csrf, "issuer": "https://tenant.eu.auth0.com/", "subject": "auth0|1"}
    asked = await client.post("/console/users/alice/identities/remove", data=remove)
    assert asked.status_code == 200
    assert 'name="subject" value="auth0|1"' in asked.text  # the confirmation re-posts it
    assert 'name="issuer" value="https://tenant.eu.auth0.com/"' in asked.text
    assert len(await runtime.admin.list_identities("alice")) == 1
    removed = await client.post(
        "/console/users/alice/identities/remove", data={**remove, "confirmed": "yes"}
    )
    assert (removed.status_code, removed.headers["location"]) == (
        303,
        "/console/users/alice?done=identity-unlinked",
    )
    assert await runtime.admin.list_identities("alice") == []
    again = await client.post(
        "/console/users/alice/identities/remove", data={**remove, "confirmed": "yes"}
    )
    assert again.status_code == 404
    assert "alice is not linked to auth0|1 at auth0" in again.text
    events = await runtime.admin.audit(AuditQuery(event="admin.identity."))
    assert [(e.event, e.actor, e.target) for e in reversed(events)] == [
        ("admin.identity.link", "root", "alice"),
        ("admin.identity.unlink", "root", "alice"),
    ]


# ---------------------------------------------------------------- echoed input is cut


async def test_a_long_refused_value_is_cut_on_the_page(client, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client)
    long = "x" * 5000
    for path, form in [
        ("/console/orgs", {"uid": long}),
        ("/console/roles", {"name": long, "scopes": "a"}),
        ("/console/issuers", {**ISSUER_FORM, "name": long}),
        ("/console/users", {"username": long}),
        (f"/console/roles/{long}/delete", {}),
    ]:
        response = await client.post(path, data={"csrf": csrf, **form})
        assert response.status_code in (400, 404), path
        alert = found(re.compile(r'role="alert"[^>]*>(.*?)</div>', re.S), response.text)
        assert "x" * 100 not in alert, path
        assert "…" in alert, path
        assert len(alert) < 400, path
    for path in ("/console/users", "/console/clients"):
        response = await client.get(path, params={"search": long})
        assert response.status_code == 200, path
        said = found(re.compile(r"No \w+ matches “([^”]*)”"), response.text)
        assert "x" * 100 not in said, path
        assert "…" in said, path


async def test_a_long_value_is_not_echoed_in_full(client, admin_user):
    """An error page or form message quotes what was sent, cut to 64 characters (issue 15);
    the form keeps the value itself in its input field."""
    long = "A" * 5000
    clipped = "A" * 64 + "…"
    await sign_in(client)
    page = await client.get(f"/console/users/{long}")
    assert page.status_code == 404
    assert f"no user {clipped}" in page.text
    assert long[:65] not in page.text
    csrf = await csrf_of(client, "/console/users/new")
    form = {"csrf": csrf, "username": long, "password": "", "password_confirm": ""}
    bad = await client.post("/console/users", data=form)
    assert bad.status_code == 400
    message = found(re.compile(r'<div class="error"[^>]*>(.*?)</div>', re.S), bad.text)
    assert f"invalid user name &#39;{clipped}&#39;" in message
    assert len(message) < 300
