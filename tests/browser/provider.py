"""gatepass as an OpenID provider for real relying parties: a `gatepass serve` process whose
issuer is its own http://127.0.0.1 URL, one user, clients registered with the real CLI, and the
browser step every flow shares (the hosted /login page, then consent for a third-party client).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import watched_page
from tests.system.server import Server, free_port, gatepass, gatepass_env

USERNAME = "alice"
PASSWORD = "alice's long password"
EMAIL = "alice@example.com"
DISPLAY_NAME = "Alice Liddell"


@dataclass
class Provider:
    server: Server
    env: dict[str, str]
    user_id: str
    shots: Path
    admin_password: str

    @property
    def issuer(self) -> str:
        return self.server.url

    def cli(self, *args: str, input: str | None = None) -> Any:
        done = gatepass(*args, "--json", env=self.env, input=input)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def admin(self, method: str, path: str) -> httpx.Response:
        """The admin API, as the `admin` user made by `gatepass init`."""
        login = httpx.post(
            f"{self.issuer}/auth/login",
            json={"username": "admin", "password": self.admin_password, "scope": "gatepass:admin"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        return httpx.request(method, f"{self.issuer}{path}", headers=bearer, timeout=10)

    def add_client(self, name: str, *flags: str) -> tuple[str, str | None]:
        """`gatepass client add NAME --grant authorization_code … --json` → (id, secret)."""
        created = self.cli("client", "add", name, "--grant", "authorization_code", *flags)
        assert {"client_id", "client_secret"} <= set(created)
        return created["client_id"], created["client_secret"]


def start_provider(home: Path, shots: Path) -> tuple[Provider, Server]:
    port = free_port()
    env = gatepass_env(home, GATEPASS_ISSUER=f"http://127.0.0.1:{port}")
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    user = gatepass(
        "user", "add", USERNAME, "--email", EMAIL, "--display-name", DISPLAY_NAME,
        "--password-stdin", "--json",
        env=env,
        input=PASSWORD,
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    server = Server(env, port=port)
    admin_password = json.loads(init.stdout)["password"]
    return Provider(server, env, json.loads(user.stdout)["id"], shots, admin_password), server


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, shots: Path) -> Iterator[Provider]:
    found, server = start_provider(tmp_path_factory.mktemp("provider") / "var", shots)
    with server:
        yield found


@pytest.fixture
def page(browser: Browser, provider: Provider) -> Iterator[Page]:
    """A fresh browser profile per test: no sign-in session carried over."""
    with watched_page(browser) as opened:
        yield opened


class Callbacks:
    """The app side of redirects: an HTTP server on 127.0.0.1 that records every request it
    gets (the callback URL an app would receive) and answers 200. Playwright's routing does
    not see the requests a redirect leads to, so a real listener is the reliable witness."""

    def __init__(self) -> None:
        self.received: list[str] = []
        record = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/favicon.ico":  # the browser's own request, not the app's
                    self.send_error(404)
                    return
                record.append(f"http://{self.headers['Host']}{self.path}")
                body = b"callback received"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def callbacks() -> Iterator[Callbacks]:
    found = Callbacks()
    try:
        yield found
    finally:
        found.stop()


def sign_in(page: Page, username: str = USERNAME, password: str = PASSWORD) -> None:
    """Fill the hosted /login page as a person would."""
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").first.click()


def wait_for_callback(
    page: Page, callbacks: Callbacks, seen: int, *, expect_consent: bool | None = None
) -> str:
    """Allow when the consent page asks (`expect_consent` True/False asserts whether it does)
    until the app's listener receives a request after the first `seen`; that request's URL."""
    allow = page.get_by_role("button", name="Allow")
    deadline = time.monotonic() + 10
    asked = False
    while len(callbacks.received) == seen and time.monotonic() < deadline:
        if not asked and allow.count():
            asked = True
            allow.click()
        page.wait_for_timeout(50)
    assert len(callbacks.received) == seen + 1, page.content()[-2000:]
    if expect_consent is not None:
        assert asked == expect_consent
    return callbacks.received[-1]


def authorize_in_browser(
    page: Page,
    url: str,
    callbacks: Callbacks,
    *,
    signed_in: bool = False,
    expect_consent: bool | None = None,
) -> str:
    """Open the authorization URL, sign in (unless the sign-in session does it), allow when
    asked, and return the callback URL the client receives."""
    seen = len(callbacks.received)
    page.goto(url)
    if not signed_in:
        page.wait_for_selector("input[name=password]")
        sign_in(page)
    return wait_for_callback(page, callbacks, seen, expect_consent=expect_consent)


class AppProcess:
    """An example app (or a static file server) as a real process on 127.0.0.1, ready when
    `ready_url` answers; stopped by its process id."""

    def __init__(self, argv: list[str], ready_url: str, env: dict[str, str], log: Path) -> None:
        self._log = log.open("ab")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.log = log
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{argv} not ready in 30 s: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
