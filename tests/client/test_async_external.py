"""The external_token credential: a trusted provider's token exchanged (RFC 8693) by an API
client allowed the grant, and the resulting session refreshed with the same client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gatepass.app.container import Container, open_container
from gatepass.client import AsyncClient, InvalidRequest
from gatepass.config import Settings
from gatepass.core.clock import FrozenClock
from tests.client.conftest import BASE
from tests.conftest import make_settings
from tests.external.conftest import issuer_config
from tests.idp import TestIdentityProvider


@pytest.fixture
def idp() -> Iterator[TestIdentityProvider]:
    provider = TestIdentityProvider("https://api.example.com")
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def settings(tmp_path: Path, idp: TestIdentityProvider) -> Settings:
    return make_settings(tmp_path / "var", external_http_timeout=1, issuers=[issuer_config(idp)])


@pytest.fixture
async def runtime(settings: Settings, clock: FrozenClock) -> AsyncIterator[Container]:
    rt = await open_container(settings, clock=clock, initialize=True)
    try:
        await rt.admin.add_user("alice", password=None, actor="test")
        await rt.admin.link_identity("alice", "test-idp", "auth0|alice", actor="test")
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def exchanger(runtime: Container) -> tuple[str, str]:
    created = await runtime.admin.add_client(
        "exchanger", grant_types=["token-exchange", "refresh_token"], actor="test"
    )
    return created.client.client_id, created.client_secret


def external_client(transport, clock, exchanger, token) -> AsyncClient:
    client_id, client_secret = exchanger
    return AsyncClient(
        BASE,
        transport=transport,
        clock=clock.now,
        client_id=client_id,
        client_secret=client_secret,
        external_token=token,
    )


async def test_external_token_exchange_refresh_and_logout(transport, clock, idp, exchanger):
    async with external_client(transport, clock, exchanger, idp.token("auth0|alice")) as client:
        me = await client.me()
        assert (me["kind"], me["username"]) == ("user", "alice")
        assert me["session"]["auth_method"] == "external"
        first = client.tokens
        assert first is not None
        assert first.refresh_token is not None
        clock.advance(1000)  # expired: refreshed at /oauth/token with the client's credentials
        assert (await client.me())["username"] == "alice"
        assert client.tokens is not None
        assert client.tokens.refresh_token != first.refresh_token
        await client.logout()
    assert transport.paths["/oauth/token"] == 2  # the exchange, then the refresh
    assert transport.paths["/auth/refresh"] == 0
    assert transport.paths["/auth/logout"] == 1


async def test_external_token_callable_is_called_for_each_login(transport, clock, idp, exchanger):
    minted: list[str] = []

    def fresh_token() -> str:
        minted.append(idp.token("auth0|alice"))
        return minted[-1]

    async with external_client(transport, clock, exchanger, fresh_token) as client:
        first = await client.login()
        assert first.session_id is None  # OAuth answers carry no session id
        second = await client.login()  # a new exchange, with a newly minted external token
    assert len(minted) == 2
    assert first.access_token != second.access_token


async def test_rejected_external_token(transport, clock, idp, exchanger):
    stranger = idp.token("auth0|stranger")
    async with external_client(transport, clock, exchanger, stranger) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.login()
    assert (caught.value.status, caught.value.code) == (400, "invalid_request")


async def test_revoked_external_session(transport, clock, runtime, idp, exchanger):
    async with external_client(transport, clock, exchanger, idp.token("auth0|alice")) as client:
        await client.login()
        sessions = await runtime.admin.list_sessions("alice")
        assert len(sessions) == 1
        await runtime.admin.revoke_session(sessions[0].id, actor="test")
        # The external token is still good, so the client exchanges it again.
        assert (await client.me())["username"] == "alice"
    assert transport.paths["/oauth/token"] == 3  # exchange, refused refresh, exchange
