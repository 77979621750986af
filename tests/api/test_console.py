"""The admin console over the ASGI transport: sign-in, cookie flags, csrf, confirmation,
secrets shown once, and refusals. The same flows run in a real browser in tests/browser/."""

from __future__ import annotations

import re

import httpx
import pytest

from gatepass.core.policies import ADMIN_SCOPE
from gatepass.http.app import create_app
from gatepass.storage.base import AuditQuery
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
