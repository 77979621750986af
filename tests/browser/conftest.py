"""A real `gatepass serve` process and Debian's Chromium driven by Playwright.

Chromium comes from the `chromium` Debian package (`scripts/system-deps` installs it); Playwright
only drives it (`playwright install` is never run: it would download a browser). Outside CI a
missing browser skips these tests; under CI=true it fails them.

Screenshots go to a temporary directory, or to `$GATEPASS_SCREENSHOTS` when set
(`scripts/screenshots` sets it to docs/img to refresh the documentation's pictures).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.system.server import Server, gatepass, gatepass_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


@contextmanager
def watched_page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a fresh browser profile (no cookie carried over), which must end without a
    script error: a CSP violation is one, so every page's policy is checked on the way."""
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.set_default_timeout(10_000)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    try:
        yield opened
    finally:
        context.close()
    assert problems == []


@dataclass
class Deployment:
    server: Server
    admin_password: str
    shots: Path

    @property
    def url(self) -> str:
        return self.server.url

    def admin_headers(self) -> dict[str, str]:
        login = httpx.post(
            f"{self.url}/auth/login",
            json={"username": "admin", "password": self.admin_password, "scope": "gatepass:admin"},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("GATEPASS_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, shots: Path) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("console") / "var"
    env = gatepass_env(home)
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    with Server(env) as server:
        yield Deployment(server, json.loads(init.stdout)["password"], shots)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI (scripts/system-deps installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (run scripts/system-deps)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
