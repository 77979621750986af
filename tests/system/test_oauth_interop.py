"""OAuth 2.0 clients no one here wrote, against a real `gatepass serve` process:
authlib's httpx client and requests-oauthlib's BackendApplicationClient."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

from tests.system.server import Server, free_port, gatepass, gatepass_env

with warnings.catch_warnings():
    # authlib 1.9 prefers its httpx2 fork and warns, once at import, when it falls back to
    # httpx; httpx is the client the issue asks us to interoperate with. (authlib.deprecate
    # installs an "always" filter when imported, so it is imported before ours.)
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

pytestmark = pytest.mark.slow
USER_PASSWORD = "interop password 123"


@dataclass
class Deployment:
    server: Server
    env: dict[str, str]

    @property
    def token_url(self) -> str:
        return f"{self.server.url}/oauth/token"

    def client(self, name: str, *args: str) -> tuple[str, str]:
        result = gatepass("client", "add", name, *args, "--json", env=self.env)
        assert result.returncode == 0, result.stderr
        created = json.loads(result.stdout)
        return created["client_id"], created["client_secret"]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home: Path = tmp_path_factory.mktemp("interop") / "var"
    port = free_port()
    env = gatepass_env(home, GATEPASS_ISSUER=f"http://127.0.0.1:{port}")
    assert gatepass("init", env=env).returncode == 0
    user = gatepass(
        "user", "add", "erin", "--scope", "docs:read", "--scope", "docs:write",
        "--password-stdin", env=env, input=USER_PASSWORD,
    )  # fmt: skip
    assert user.returncode == 0, user.stderr
    with Server(env, port=port) as server:
        yield Deployment(server, env)


def claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_client_credentials(deployment, method):
    client_id, secret = deployment.client(f"authlib-{method}", "--scope", "reports:read")
    with OAuth2Client(
        client_id, secret, scope="reports:read", token_endpoint_auth_method=method
    ) as oauth:
        token = oauth.fetch_token(deployment.token_url, grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "reports:read"
        assert "refresh_token" not in token
        assert claims(token["access_token"])["client_id"] == client_id
        # The token authlib now holds is accepted where it is presented.
        me = oauth.get(f"{deployment.server.url}/auth/me")
        assert me.status_code == 200
        assert me.json()["client_id"] == client_id


def test_authlib_password_grant_and_refresh(deployment):
    client_id, secret = deployment.client(
        "authlib-password", "--grant", "password", "--grant", "refresh_token"
    )
    with OAuth2Client(client_id, secret) as oauth:
        first = oauth.fetch_token(
            deployment.token_url, username="erin", password=USER_PASSWORD, scope="docs:read"
        )
        assert first["scope"] == "docs:read"
        assert first["refresh_token"]
        assert claims(first["access_token"])["client_id"] == client_id
        second = oauth.refresh_token(deployment.token_url, refresh_token=first["refresh_token"])
        assert second["access_token"] != first["access_token"]
        assert second["refresh_token"] != first["refresh_token"]
        assert oauth.token["access_token"] == second["access_token"]
        # authlib raises the RFC 6749 error code it was given.
        with pytest.raises(Exception, match="invalid_grant"):
            oauth.refresh_token(deployment.token_url, refresh_token=first["refresh_token"])


def test_authlib_refuses_a_wrong_password_with_invalid_grant(deployment):
    client_id, secret = deployment.client("authlib-wrong", "--grant", "password")
    with OAuth2Client(client_id, secret) as oauth, pytest.raises(Exception, match="invalid_grant"):
        oauth.fetch_token(deployment.token_url, username="erin", password="not it")


def test_authlib_revokes_and_introspects(deployment):
    client_id, secret = deployment.client(
        "authlib-revoke", "--grant", "password", "--grant", "refresh_token"
    )
    with OAuth2Client(client_id, secret) as oauth:
        token = oauth.fetch_token(deployment.token_url, username="erin", password=USER_PASSWORD)
        url = deployment.server.url
        active = oauth.introspect_token(f"{url}/oauth/introspect", token=token["access_token"])
        assert active.status_code == 200
        assert active.json()["active"] is True
        assert active.json()["username"] == "erin"
        revoked = oauth.revoke_token(
            f"{url}/oauth/revoke", token=token["refresh_token"], token_type_hint="refresh_token"
        )
        assert revoked.status_code == 200
        after = oauth.introspect_token(f"{url}/oauth/introspect", token=token["access_token"])
        assert after.json() == {"active": False}


def test_requests_oauthlib_backend_application_client(deployment, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # a loopback test server
    client_id, secret = deployment.client("backend-app", "--scope", "jobs:run")
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    token = session.fetch_token(
        token_url=deployment.token_url, client_id=client_id, client_secret=secret
    )
    assert token["token_type"] == "Bearer"
    assert token["scope"] == ["jobs:run"]
    assert claims(token["access_token"])["sub"] == client_id
    verified = httpx.get(
        f"{deployment.server.url}/auth/verify?scope=jobs:run",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert verified.status_code == 200
    assert verified.headers["x-gatepass-subject"] == client_id
    session.close()


def test_requests_oauthlib_sees_invalid_client(deployment, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_id, _secret = deployment.client("backend-wrong")
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id))
    with pytest.raises(Exception, match="invalid_client"):
        session.fetch_token(
            token_url=deployment.token_url, client_id=client_id, client_secret="wrong"
        )
    session.close()
