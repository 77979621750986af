"""The blocking Client and GatepassAuth against a real `gatepass serve` process, with access
tokens that live 10 seconds so expiry happens in real time."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gatepass.client import ADMIN_SCOPE, Client, InvalidCredentials, RateLimited, TokenRevoked
from tests.idp import TestIdentityProvider
from tests.system.server import Server, free_port, gatepass, gatepass_env

pytestmark = pytest.mark.slow
PASSWORD = "sdk test password 123"
ACCESS_TTL = 10


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that counts requests by path (thread-safe)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: Counter[str] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths[request.url.path] += 1
        return super().handle_request(request)


@dataclass
class Deployment:
    server: Server
    env: dict[str, str]
    admin_password: str
    idp: TestIdentityProvider

    @property
    def url(self) -> str:
        return self.server.url

    def cli(self, *args: str, input: str | None = None) -> str:
        result = gatepass(*args, env=self.env, input=input)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home: Path = tmp_path_factory.mktemp("sdk") / "var"
    port = free_port()
    env = gatepass_env(
        home,
        GATEPASS_ISSUER=f"http://127.0.0.1:{port}",
        GATEPASS_ACCESS_TOKEN_TTL=str(ACCESS_TTL),
        GATEPASS_LOGIN_FAILURES_PER_ACCOUNT="3",
    )
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    idp = TestIdentityProvider("https://api.example.com")
    try:
        with Server(env, port=port) as server:
            deployment = Deployment(server, env, json.loads(init.stdout)["password"], idp)
            for name in ("erin", "frank", "mallory"):
                deployment.cli(
                    "user", "add", name, "--scope", "docs:read", "--password-stdin",
                    input=PASSWORD,
                )  # fmt: skip
            yield deployment
    finally:
        idp.stop()


def test_every_credential_kind(deployment):
    d = deployment
    created = json.loads(d.cli("client", "add", "reports", "--scope", "reports:read", "--json"))
    key = json.loads(d.cli("apikey", "add", "--user", "erin", "--name", "ci", "--json"))["api_key"]
    d.cli("issuer", "add", d.idp.issuer, "--name", "test-idp", "--audience", d.idp.audience)
    d.cli("user", "link", "frank", "--issuer", "test-idp", "--subject", "auth0|frank")
    exchanger = json.loads(
        d.cli("client", "add", "exchanger", "--grant", "token-exchange", "--grant",
              "refresh_token", "--json")
    )  # fmt: skip
    kinds = {
        "password": {"username": "erin", "password": PASSWORD},
        "client_secret": {
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
        "api_key": {"username": "erin", "api_key": key},
        "external_token": {
            "client_id": exchanger["client_id"],
            "client_secret": exchanger["client_secret"],
            "external_token": lambda: d.idp.token("auth0|frank"),
        },
    }
    seen = {}
    for kind, credentials in kinds.items():
        with Client(d.url, **credentials) as client:
            assert client.credential_kind == kind
            me = client.me()
            seen[kind] = me.get("username") or me.get("client_id")
            pair = client.token()
            if kind == "password":
                assert pair.refresh_token is not None
                with Client(d.url, refresh_token=pair.refresh_token) as again:
                    assert again.credential_kind == "refresh_token"
                    seen["refresh_token"] = again.me()["username"]
    assert seen == {
        "password": "erin",
        "refresh_token": "erin",
        "client_secret": created["client_id"],
        "api_key": "erin",
        "external_token": "frank",
    }


def test_refreshes_before_real_expiry(deployment):
    transport = CountingTransport()
    with Client(deployment.url, username="erin", password=PASSWORD, transport=transport) as c:
        first = c.login()
        assert first.expires_at - first.issued_at == ACCESS_TTL
        # The margin is capped at half the token's life (5 s here): at 5.5 s it is renewed.
        time.sleep(ACCESS_TTL / 2 + 0.5)
        assert c.me()["username"] == "erin"
        assert c.tokens is not None
        assert c.tokens.access_token != first.access_token
    assert transport.paths == Counter({"/auth/login": 1, "/auth/refresh": 1, "/auth/me": 1})


def run_threads(count: int, work) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = work()
        except Exception as exc:  # reported through results, asserted by the caller
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_single_flight_under_20_threads(deployment):
    transport = CountingTransport()
    client = Client(deployment.url, username="erin", password=PASSWORD)
    with httpx.Client(base_url=deployment.url, transport=transport) as api:

        def call() -> int:
            return api.get("/auth/me", auth=client.auth).status_code

        assert run_threads(20, call) == [200] * 20  # no token yet: one login
        assert transport.paths["/auth/login"] == 1
        time.sleep(ACCESS_TTL / 2 + 0.5)  # now within the margin: one refresh for everyone
        assert run_threads(20, call) == [200] * 20
    assert transport.paths["/auth/refresh"] == 1
    assert transport.paths["/auth/login"] == 1
    assert transport.paths["/auth/me"] == 40
    client.close()


def test_revoked_session_via_admin_api(deployment):
    admin = Client(
        deployment.url,
        username="admin",
        password=deployment.admin_password,
        scope=ADMIN_SCOPE,
    )
    transport = CountingTransport()
    user = Client(deployment.url, username="frank", password=PASSWORD, transport=transport)
    with admin, user:
        frank_tokens = user.login()
        admin.request("DELETE", f"/admin/sessions/{frank_tokens.session_id}")
        # A password client recovers: 401, refresh refused, log in again, retry once.
        assert user.me()["username"] == "frank"
        assert transport.paths == Counter({"/auth/login": 2, "/auth/me": 2, "/auth/refresh": 1})
        # A client holding only a refresh token cannot: the revocation surfaces.
        fresh = user.refresh()
        assert fresh.refresh_token is not None
        holder = Client(deployment.url, refresh_token=fresh.refresh_token)
        holder.token()
        assert holder.tokens is not None
        admin.request("DELETE", f"/admin/sessions/{holder.tokens.session_id}")
        with pytest.raises(TokenRevoked):
            holder.me()
        holder.close()


def test_rate_limited(deployment):
    with Client(deployment.url, username="mallory", password="not the password") as client:
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                client.login()
        with pytest.raises(RateLimited) as caught:
            client.login()
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
