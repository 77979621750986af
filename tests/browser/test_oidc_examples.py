"""The runnable examples of docs/oidc.md, each signing in against a real gatepass server with
the sign-in done in Chromium: the FastAPI + authlib web app (confidential, third-party: the
consent page), the single-page app (public, PKCE and CORS from another 127.0.0.1 origin) and
the CLI app (public, PKCE, a loopback listener on a port of its choosing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.provider import (
    DISPLAY_NAME,
    EMAIL,
    AppProcess,
    Provider,
    page,
    provider,
    sign_in,
)
from tests.system.server import free_port

__all__ = ["page", "provider"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_env(provider: Provider, **values: str) -> dict[str, str]:
    return {**provider.env, **values}


@pytest.fixture(scope="module")
def web_app(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client_id, secret = provider.add_client(
        "Photo Printer",
        "--redirect-uri", f"{url}/callback",
        "--post-logout-redirect-uri", f"{url}/",
    )  # fmt: skip
    assert secret
    env = example_env(
        provider,
        GATEPASS_ISSUER=provider.issuer,
        APP_CLIENT_ID=client_id,
        APP_CLIENT_SECRET=secret,
        APP_URL=url,
    )
    log = tmp_path_factory.mktemp("webapp") / "webapp.log"
    with AppProcess([sys.executable, str(EXAMPLES / "oidc_webapp.py")], url, env, log):
        yield url


def test_the_fastapi_authlib_web_app_signs_in_and_out(page: Page, web_app: str) -> None:
    page.goto(web_app)
    expect(page.get_by_text("Signed out.")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_selector("input[name=password]")
    sign_in(page)
    page.get_by_role("button", name="Allow").click()  # a third-party app: consent
    page.wait_for_url(f"{web_app}/")
    expect(page.locator("#who")).to_have_text(f"Signed in as {DISPLAY_NAME}")
    expect(page.locator("#email")).to_have_text(EMAIL)

    # Signing out at the app ends the gatepass sign-in session too (RP-initiated logout).
    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url(f"{web_app}/")
    expect(page.get_by_text("Signed out.")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_selector("input[name=password]")


def test_the_web_app_shows_a_refused_consent(page: Page, web_app: str, provider: Provider) -> None:
    # The other test may have left a consent: start without it (the admin API's way).
    for consent in provider.admin("GET", "/admin/consents?user=alice").json()["items"]:
        path = f"/admin/users/alice/consents/{consent['client_id']}"
        assert provider.admin("DELETE", path).status_code == 204
    page.goto(f"{web_app}/login")
    page.wait_for_selector("input[name=password]")
    sign_in(page)
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("Sign-in failed: access_denied.")).to_be_visible()


@pytest.fixture(scope="module")
def spa(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The SPA served as static files by `python -m http.server` on its own port."""
    folder = tmp_path_factory.mktemp("spa")
    shutil.copytree(EXAMPLES / "spa", folder, dirs_exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    client_id, secret = provider.add_client(
        "Photo Album",
        "--public",
        "--redirect-uri", url,
        "--web-origin", url.rstrip("/"),
        "--post-logout-redirect-uri", url,
    )  # fmt: skip
    assert secret is None
    (folder / "config.js").write_text(
        "window.GATEPASS = "
        + json.dumps(
            {"issuer": provider.issuer, "clientId": client_id, "scope": "openid profile email"}
        )
    )
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d", str(folder)]
    with AppProcess([*argv, str(port)], url, provider.env, folder / "http.log"):
        yield url


def test_the_single_page_app_signs_in_with_pkce_and_cors(
    page: Page, spa: str, provider: Provider
) -> None:
    page.goto(spa)
    page.get_by_role("button", name="Sign in with gatepass").click()
    page.wait_for_selector("input[name=password]")
    sign_in(page)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("status")).to_have_text(f"Signed in as {DISPLAY_NAME}")
    profile = json.loads(page.locator("#profile").inner_text())
    assert profile["sub"] == provider.user_id
    assert profile["email"] == EMAIL
    assert "code=" not in page.url  # the single-use code is dropped from the address bar

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(spa)
    expect(page.get_by_role("status")).to_have_text("Signed out.")


def test_an_origin_not_registered_gets_no_cors_answer(
    page: Page, spa: str, provider: Provider, tmp_path: Path
) -> None:
    """The same app served from a port not registered with --web-origin: the browser's
    preflight and simple requests get no Access-Control-Allow-Origin, so fetch() fails."""
    port = free_port()
    other = f"http://127.0.0.1:{port}/"
    (tmp_path / "index.html").write_text("<!doctype html><title>elsewhere</title>")
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "-d", str(tmp_path)]
    with AppProcess([*argv, str(port)], other, provider.env, tmp_path / "http.log"):
        page.goto(other)
        outcomes = page.evaluate(
            """async (issuer) => {
                const attempt = (url, init) => fetch(url, init).then(
                    (r) => `answered ${r.status}`, () => 'blocked')
                return [
                    await attempt(`${issuer}/.well-known/openid-configuration`),
                    await attempt(`${issuer}/oauth/userinfo`,
                                  {headers: {Authorization: 'Bearer x'}}),
                ]
            }""",
            provider.issuer,
        )
    assert outcomes == ["blocked", "blocked"]
    # From the registered origin, the same requests are answered (the preflight included).
    page.goto(spa)
    outcomes = page.evaluate(
        """async (issuer) => [
            (await fetch(`${issuer}/.well-known/openid-configuration`)).status,
            (await fetch(`${issuer}/oauth/userinfo`,
                         {headers: {Authorization: 'Bearer x'}})).status,
        ]""",
        provider.issuer,
    )
    assert outcomes == [200, 401]


def test_the_cli_app_signs_in_through_a_loopback_redirect(page: Page, provider: Provider) -> None:
    client_id, secret = provider.add_client(
        "Photo CLI",
        "--grant", "refresh_token",
        "--redirect-uri", "http://127.0.0.1/callback",
        "--public", "--first-party",
    )  # fmt: skip
    assert secret is None
    argv = [sys.executable, str(EXAMPLES / "oidc_cli_app.py"), "--issuer", provider.issuer,
            "--client-id", client_id, "--no-browser"]  # fmt: skip
    cli = subprocess.Popen(
        argv, env=provider.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    timer = threading.Timer(60, cli.kill)  # bounded: never left waiting for a callback
    timer.start()
    try:
        assert cli.stderr is not None
        line = cli.stderr.readline()
        assert line.startswith("Sign in at: "), line
        page.goto(line.removeprefix("Sign in at: ").strip())
        page.wait_for_selector("input[name=password]")
        sign_in(page)  # first-party: no consent page
        expect(page.get_by_text("Signed in. You can close this tab")).to_be_visible()
        out, err = cli.communicate(timeout=30)
    finally:
        timer.cancel()
        if cli.poll() is None:
            cli.kill()
            cli.wait(timeout=5)
    assert cli.returncode == 0, err
    result = json.loads(out)
    assert result["claims"]["sub"] == provider.user_id
    assert result["claims"]["aud"] in (client_id, [client_id])
    assert result["userinfo"]["name"] == DISPLAY_NAME
    assert result["has_refresh_token"] is True
