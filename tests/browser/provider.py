"""gatepass as an OpenID provider for real relying parties: a `gatepass serve` process whose
issuer is its own http://127.0.0.1 URL, one user, clients registered with the real CLI, and the
browser step every flow shares (the hosted /login page, then consent for a third-party client).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route

from tests.browser.conftest import VIEWPORT
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

    @property
    def issuer(self) -> str:
        return self.server.url

    def cli(self, *args: str, input: str | None = None) -> Any:
        done = gatepass(*args, "--json", env=self.env, input=input)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def add_client(self, name: str, *flags: str) -> tuple[str, str | None]:
        """`gatepass client add NAME --grant authorization_code … --json` → (id, secret)."""
        created = self.cli("client", "add", name, "--grant", "authorization_code", *flags)
        assert set(created) == {"client_id", "client_secret"}
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
    return Provider(server, env, json.loads(user.stdout)["id"], shots), server


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory, shots: Path) -> Iterator[Provider]:
    found, server = start_provider(tmp_path_factory.mktemp("provider") / "var", shots)
    with server:
        yield found


@pytest.fixture
def page(browser: Browser, provider: Provider) -> Iterator[Page]:
    """A fresh browser profile per test: no sign-in session carried over."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert problems == []


def catch_redirect(page: Page, redirect_uri: str) -> list[str]:
    """Answer requests to `redirect_uri` in the browser itself (nothing listens there) and
    record their URLs: the callback an app would receive."""
    caught: list[str] = []

    def answer(route: Route) -> None:
        caught.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="callback received")

    page.route(f"{redirect_uri}**", answer)
    return caught


def sign_in(page: Page, username: str = USERNAME, password: str = PASSWORD) -> None:
    """Fill the hosted /login page as a person would."""
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").first.click()


def consent(page: Page, answer: str = "Allow") -> None:
    page.get_by_role("button", name=answer).click()


def authorize_in_browser(
    page: Page,
    url: str,
    redirect_uri: str,
    *,
    signed_in: bool = False,
    expect_consent: bool | None = None,
) -> str:
    """Open the authorization URL, sign in (unless the sign-in session does it), allow when
    the consent page asks (`expect_consent` True/False asserts whether it does), and return
    the callback URL the client receives."""
    caught = catch_redirect(page, redirect_uri)
    page.goto(url)
    if not signed_in:
        page.wait_for_selector("input[name=password]")
        sign_in(page)
    allow = page.get_by_role("button", name="Allow")
    deadline = time.monotonic() + 10
    asked = False
    while not caught and time.monotonic() < deadline:
        if allow.count():
            asked = True
            consent(page)
            break
        page.wait_for_timeout(50)
    page.wait_for_url(f"{redirect_uri}**")
    page.unroute(f"{redirect_uri}**")
    assert len(caught) == 1, caught
    if expect_consent is not None:
        assert asked == expect_consent
    return caught[0]


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
