"""AsyncClient and GatepassAuth against the real app in-process, on the server's frozen clock."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.client import (
    AsyncClient,
    ClientConfigurationError,
    FileTokenStore,
    InvalidCredentials,
    InvalidScope,
    NotLoggedIn,
    RateLimited,
    TokenRevoked,
    TokenSet,
)
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from tests.client.conftest import BASE
from tests.conftest import PASSWORD, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Few failures before the address is throttled, so the rate-limit test is quick.
    return make_settings(tmp_path / "var", login_failures_per_address=3)


def sdk(transport: httpx.AsyncBaseTransport, clock: FrozenClock, **options) -> AsyncClient:
    return AsyncClient(BASE, transport=transport, clock=clock.now, **options)


async def test_password_login_me_and_token(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as client:
        assert client.tokens is None
        me = await client.me()  # logs in first: no explicit login() needed
        assert (me["kind"], me["username"], me["scopes"]) == ("user", "alice", ["docs:read"])
        pair = await client.token()
        assert pair.refresh_token is not None
        assert pair.scope == "docs:read"
        assert pair.expires_at == pytest.approx(clock.now() + 900, abs=1)
    assert transport.paths["/auth/login"] == 1
    assert transport.paths["/auth/refresh"] == 0


async def test_client_secret_login_and_introspect(transport, clock, runtime: Container):
    created = await runtime.admin.add_client("reports", scopes=["reports:read"], actor="test")
    client_id = created.client.client_id
    async with sdk(
        transport, clock, client_id=client_id, client_secret=created.client_secret
    ) as client:
        me = await client.me()
        assert (me["kind"], me["client_id"], me["scopes"]) == (
            "client",
            client_id,
            ["reports:read"],
        )
        # introspect() authenticates with the client's own credentials (RFC 7662 needs a client).
        info = await client.introspect()
        assert (info["active"], info["client_id"], info["scope"]) == (
            True,
            client_id,
            "reports:read",
        )
        assert await client.introspect("not-a-token") == {"active": False}


async def test_introspect_needs_client_credentials(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as client:
        with pytest.raises(ClientConfigurationError, match="client_id and client_secret"):
            await client.introspect()


async def test_api_key_login_with_narrower_scope(transport, clock, runtime: Container):
    await runtime.admin.add_user(
        "carol", password=None, scopes=["docs:read", "docs:write"], actor="test"
    )
    key = (await runtime.admin.add_api_key("carol", name="laptop", actor="test")).api_key
    async with sdk(transport, clock, username="carol", api_key=key, scope="docs:read") as client:
        assert (await client.login()).scope == "docs:read"
        assert (await client.me())["username"] == "carol"
    async with sdk(transport, clock, username="carol", api_key=key, scope="admin") as client:
        with pytest.raises(InvalidScope) as caught:
            await client.login()
        assert caught.value.status == 400


async def test_refresh_token_only_client(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as first:
        original = await first.login()
    assert original.refresh_token is not None
    async with sdk(transport, clock, refresh_token=original.refresh_token) as second:
        assert (await second.me())["username"] == "alice"
        assert second.tokens is not None
        assert second.tokens.refresh_token != original.refresh_token  # rotated
    assert transport.paths["/auth/refresh"] == 1


async def test_wrong_password_is_invalid_credentials(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password="wrong password") as client:
        with pytest.raises(InvalidCredentials) as caught:
            await client.me()
    error = caught.value
    assert (error.status, error.code, error.description) == (
        401,
        "invalid_credentials",
        "invalid credentials",
    )


async def test_rate_limit_surfaces_as_rate_limited(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password="wrong password") as client:
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                await client.login()
        with pytest.raises(RateLimited) as caught:
            await client.login()
    error = caught.value
    assert (error.status, error.code) == (429, "rate_limited")
    assert error.retry_after is not None
    assert error.retry_after > 30  # longer than the client's max wait: raised, not waited for
    assert transport.paths["/auth/login"] == 4


class FlakyTransport(httpx.AsyncBaseTransport):
    """Answers the first `failures` requests with 503 and `Retry-After: 1`, then forwards."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int) -> None:
        self.inner, self.failures = inner, failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            return httpx.Response(
                503,
                headers={"Retry-After": "1"},
                json={"error": "temporarily_unavailable", "error_description": "busy"},
            )
        return await self.inner.handle_async_request(request)


async def test_503_is_retried_after_retry_after(transport, clock, alice):
    flaky = FlakyTransport(transport, failures=1)
    async with sdk(flaky, clock, username="alice", password=PASSWORD) as client:
        started = time.monotonic()
        await client.login()
        assert time.monotonic() - started >= 1.0
    assert flaky.failures == 0
    assert transport.paths["/auth/login"] == 1


async def test_auto_refresh_shortly_before_expiry(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as client:
        first = await client.login()
        clock.advance(900 - 31)  # outside the 30 s margin: the token is still used
        await client.me()
        assert transport.paths["/auth/refresh"] == 0
        clock.advance(2)  # inside it: refreshed before the request, never a 401
        await client.me()
        assert transport.paths["/auth/refresh"] == 1
        assert client.tokens is not None
        assert client.tokens.access_token != first.access_token
        assert client.tokens.session_id == first.session_id  # the same session, rotated
        clock.advance(3600)  # long expired: refreshed as well
        await client.me()
    assert transport.paths["/auth/refresh"] == 2
    assert transport.paths["/auth/me"] == 3  # no request was refused and retried
    assert transport.paths["/auth/login"] == 1


async def test_gatepass_auth_single_flight_50_tasks(transport, clock, alice, api):
    client = sdk(transport, clock, username="alice", password=PASSWORD)
    # 50 tasks with no token yet: one login.
    first = await asyncio.gather(*(api.get("/auth/me", auth=client.auth) for _ in range(50)))
    assert [r.status_code for r in first] == [200] * 50
    assert transport.paths["/auth/login"] == 1
    # 50 tasks with an expired token: one refresh, everyone uses its result.
    clock.advance(901)
    second = await asyncio.gather(*(api.get("/auth/me", auth=client.auth) for _ in range(50)))
    assert [r.status_code for r in second] == [200] * 50
    assert transport.paths["/auth/refresh"] == 1
    assert transport.paths["/auth/login"] == 1
    await client.aclose()


async def test_401_renews_once_and_retries_once(transport, clock, alice, api):
    sdk_clock = FrozenClock(clock.now())
    client = AsyncClient(
        BASE, transport=transport, clock=sdk_clock.now, username="alice", password=PASSWORD
    )
    await client.login()
    # The server's clock moves on and the SDK's does not: it sends an expired token, gets
    # 401, refreshes once for all 20 requests and retries each once. (Past the server's
    # clock leeway, too.)
    clock.advance(1200)
    responses = await asyncio.gather(*(api.get("/auth/me", auth=client.auth) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert transport.paths["/auth/refresh"] == 1
    assert transport.paths["/auth/me"] == 40
    assert transport.paths["/auth/login"] == 1
    await client.aclose()


class Router(httpx.AsyncBaseTransport):
    """gatepass at testserver; every other host is `other` (a protected API)."""

    def __init__(self, gatepass: httpx.AsyncBaseTransport, other: httpx.AsyncBaseTransport):
        self.gatepass, self.other = gatepass, other

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = self.gatepass if request.url.host == "testserver" else self.other
        return await target.handle_async_request(request)


async def test_a_second_401_is_returned_not_retried_again(transport, clock, alice):
    seen: list[str] = []

    def protected(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(401, headers={"WWW-Authenticate": "Bearer"})

    router = Router(transport, httpx.MockTransport(protected))
    async with (
        sdk(transport, clock, username="alice", password=PASSWORD) as client,
        httpx.AsyncClient(transport=router) as http,
    ):
        response = await http.get("http://api.example/reports", auth=client.auth)
        assert response.status_code == 401
        assert len(seen) == 2  # retried once, with the renewed token
        assert seen[0] != seen[1]
        # A 403 is not about the token: neither renewed nor retried.
        assert (
            await http.get("http://testserver/admin/users", auth=client.auth)
        ).status_code == 403
    assert transport.paths["/auth/refresh"] == 1
    assert transport.paths["/admin/users"] == 1


async def test_revoked_session_surfaces_as_token_revoked(transport, clock, runtime, alice, api):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as seed:
        tokens = await seed.login()
    assert tokens.refresh_token is not None
    assert tokens.session_id is not None
    client = sdk(transport, clock, refresh_token=tokens.refresh_token)
    await client.me()
    await runtime.admin.revoke_session(tokens.session_id, actor="test")
    with pytest.raises(TokenRevoked) as caught:
        await client.me()  # 401, refresh refused (revoked), nothing to log in with
    assert (caught.value.status, caught.value.reason) == (401, "token_revoked")
    assert client.tokens is None
    # Through GatepassAuth on another httpx client, the same error surfaces from the request.
    with pytest.raises(TokenRevoked):
        await api.get("/auth/me", auth=client.auth)
    await client.aclose()


async def test_password_client_logs_in_again_after_revocation(transport, clock, runtime, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as client:
        first = await client.login()
        assert first.session_id is not None
        await runtime.admin.revoke_session(first.session_id, actor="test")
        assert (await client.me())["username"] == "alice"
        assert client.tokens is not None
        assert client.tokens.session_id != first.session_id
    # me refused, refresh refused, login, me retried
    assert transport.paths["/auth/me"] == 2
    assert transport.paths["/auth/refresh"] == 1
    assert transport.paths["/auth/login"] == 2


async def test_logout_ends_the_session(transport, clock, alice, api):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as client:
        tokens = await client.login()
        await client.logout()
        assert client.tokens is None
        await client.logout()  # nothing held: nothing to do
    response = await api.get("/auth/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert response.status_code == 401
    assert response.json()["reason"] == "token_revoked"
    assert transport.paths["/auth/logout"] == 1


async def test_tokens_saved_and_restored_from_a_0600_file(transport, clock, tmp_path, alice):
    path = tmp_path / "config" / "tokens.json"
    store = FileTokenStore(path)
    async with sdk(transport, clock, username="alice", password=PASSWORD, token_store=store) as c:
        await c.me()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A new process: the saved tokens skip the login round-trip.
    async with sdk(transport, clock, username="alice", password=PASSWORD, token_store=store) as c:
        assert (await c.me())["username"] == "alice"
        # Refreshed tokens are saved as they arrive.
        await c.refresh()
        assert c.tokens == store.load(BASE)
        await c.logout()
    assert transport.paths["/auth/login"] == 1
    assert not path.exists()


async def test_saved_tokens_alone_and_for_another_server(transport, clock, tmp_path, alice):
    store = FileTokenStore(tmp_path / "tokens.json")
    async with sdk(transport, clock, username="alice", password=PASSWORD, token_store=store) as c:
        await c.login()
    async with sdk(transport, clock, token_store=store) as restored:
        assert (await restored.me())["username"] == "alice"
    assert store.load("http://elsewhere") is None  # never sent to another server
    with pytest.raises(ClientConfigurationError):
        AsyncClient("http://elsewhere", token_store=store)


async def test_no_credentials_and_mixed_credentials_are_refused(transport, clock):
    with pytest.raises(ClientConfigurationError, match="give one of"):
        sdk(transport, clock)
    with pytest.raises(ClientConfigurationError, match="got only username"):
        sdk(transport, clock, username="alice")
    with pytest.raises(ClientConfigurationError, match="unexpected with these credentials"):
        sdk(transport, clock, username="alice", password="x", client_id="c")
    with pytest.raises(ClientConfigurationError, match="external_token needs client_id"):
        sdk(transport, clock, external_token="token")
    with pytest.raises(ClientConfigurationError, match="http"):
        AsyncClient("testserver", username="a", password="b")


async def test_tokens_kind_cannot_log_in_again(transport, clock, alice):
    async with sdk(transport, clock, username="alice", password=PASSWORD) as seed:
        tokens = await seed.login()
    async with sdk(transport, clock, tokens=tokens) as client:
        await client.logout()
        with pytest.raises(NotLoggedIn):
            await client.me()


class ConsumingApi(httpx.AsyncBaseTransport):
    """A protected API that always answers 401, consuming request bodies as a real transport
    does (httpx's MockTransport reads them into memory first, which makes them replayable)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.bodies.append(b"".join([chunk async for chunk in request.stream]))
        return httpx.Response(401)


async def test_a_streamed_body_is_not_sent_twice(transport, clock, alice):
    async def upload():
        yield b"chunk"

    api = ConsumingApi()
    async with (
        sdk(transport, clock, username="alice", password=PASSWORD) as client,
        httpx.AsyncClient(transport=Router(transport, api)) as http,
    ):
        first = await client.login()
        response = await http.post("http://api.example/upload", content=upload(), auth=client.auth)
        assert response.status_code == 401
        assert api.bodies == [b"chunk"]  # not retried
        assert transport.paths["/auth/refresh"] == 0
        # The next request renews the token first; a body held in memory is retried.
        response = await http.post("http://api.example/upload", content=b"again", auth=client.auth)
        assert response.status_code == 401
        assert api.bodies == [b"chunk", b"again", b"again"]
        assert transport.paths["/auth/refresh"] == 2  # before sending, and after its 401
        assert client.tokens is not None
        assert client.tokens.access_token != first.access_token


def test_auth_flow_is_a_plain_generator_without_io():
    """`auth_flow` itself only yields requests: with a fresh token held, the request comes
    back with its bearer header, and a 200 ends the flow."""
    now = time.time()
    tokens = TokenSet("access-1", "refresh-1", expires_at=now + 900, issued_at=now)
    client = AsyncClient(BASE, tokens=tokens)
    flow = client.auth.auth_flow(httpx.Request("GET", "http://api.example/reports"))
    request = next(flow)
    assert request.headers["Authorization"] == "Bearer access-1"
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, request=request))
