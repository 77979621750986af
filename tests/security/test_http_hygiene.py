"""HTTP hygiene: bounded bodies, strict JSON, no-store on tokens, security headers, no server
banner, and a generic 500 that says nothing but an error id."""

from __future__ import annotations

import base64
import json
import logging
import re

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.system.server import Server, gatepass, gatepass_env

BIG = "x" * 70_000


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/auth/login", 413),
        ("/auth/refresh", 413),
        ("/oauth/token", 413),
        ("/api/v1/public/client/login", 400),
        ("/v1/auth", 400),
        ("/api/v1/auth/login", 400),
        ("/api/login", 400),
        ("/client/authenticate", 200),
    ],
)
async def test_oversized_bodies_are_refused_in_each_surfaces_shape(client, path, status):
    response = await client.post(path, content=BIG, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.status_code < 500
    text = response.text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "body",
    [
        b'{"username": "alice", "username": "mallory", "password": "x"}',
        b'{"username": "alice", "password": Infinity}',
        b'{"username": "alice", "password": "x"} trailing',
        b'"a string"',
        b"\xef\xbb\xbf{}",
    ],
)
async def test_strict_json(client, body):
    response = await client.post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_every_token_response_is_no_store(client, runtime):
    created = await runtime.admin.add_client(
        "svc", metadata={"domain": "d"}, grant_types=["client_credentials"], actor="test"
    )
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    native = await client.post("/auth/login", json={"username": "alice", "password": PASSWORD})
    responses = [
        native,
        await client.post("/auth/refresh", json={"refresh_token": native.json()["refresh_token"]}),
        await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client.client_id, created.client_secret),
        ),
        await client.post(
            "/api/v1/public/client/login",
            json={"token": created.client.client_id, "secret": created.client_secret},
        ),
        await client.post("/v1/auth", json={}, headers={"Authentication": f"Token {basic}"}),
        await client.post(
            "/api/v1/auth/login", json={"client_id": "alice", "client_secret": PASSWORD}
        ),
        await client.post("/api/login", json={"username": "alice", "password": PASSWORD}),
        await client.post(
            "/client/authenticate", json={"username": "alice", "secretKey": PASSWORD}
        ),
    ]
    for response in responses:
        assert response.status_code in (200, 201), response.text
        assert response.headers["cache-control"] == "no-store", response.url


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/nope"),
        ("POST", "/auth/login"),
        ("GET", "/auth/me"),
        ("GET", "/.well-known/jwks.json"),
        ("POST", "/oauth/token"),
        ("GET", "/console/login"),
    ],
)
async def test_security_headers_on_every_response(client, method, path):
    response = await client.request(method, path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_an_unexpected_error_is_a_generic_500_with_an_error_id(client, runtime, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    runtime.auth.login_password = broken
    with caplog.at_level(logging.ERROR, logger="gatepass.http"):
        response = await client.post(
            "/auth/login", json={"username": "alice", "password": PASSWORD}
        )
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"error", "error_description", "error_id"}
    assert (body["error"], body["error_description"]) == ("server_error", "unexpected error")
    assert "hunter2" not in response.text
    assert body["error_id"] in caplog.text  # the operator can find it in the log


@pytest.mark.slow
def test_a_real_server_sends_no_banner(tmp_path):
    env = gatepass_env(tmp_path / "var")
    assert gatepass("init", env=env).returncode == 0
    with Server(env) as server:
        for path in ("/healthz", "/nope", "/auth/me"):
            response = httpx.get(server.url + path)
            assert "server" not in response.headers
            assert "x-powered-by" not in response.headers
        malformed = httpx.post(
            server.url + "/auth/login", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        assert json.loads(malformed.text)["error"] == "invalid_request"
