"""Issue 22 against a real `gatepass serve` process over real sockets: an administrator's token
reaches the admin API only when it asked for `gatepass:admin` by name (natively, by OAuth and
through a dialect), and an API registered with the CLI gets tokens bound to it."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest

from tests.system.server import Server, gatepass, gatepass_env

pytestmark = pytest.mark.slow

NOTES = "https://notes.example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_only_when_named_and_tokens_for_one_api(tmp_path):
    env = gatepass_env(tmp_path / "var", GATEPASS_DIALECTS="datarhei")
    init = gatepass("init", "--admin", "root", "--json", env=env)
    assert init.returncode == 0, init.stderr
    password = json.loads(init.stdout)["password"]
    for args in (
        ("role", "add", "admin", "--scope", "gatepass:admin", "--scope", "notes:read"),
        ("resource", "add", NOTES, "--scope", "notes:read"),
    ):
        done = gatepass(*args, env=env)
        assert done.returncode == 0, done.stderr
    added = gatepass(
        "client", "add", "web", "--client-id", "web-client-1", "--grant", "password", "--json",
        env=env,
    )  # fmt: skip
    secret = json.loads(added.stdout)["client_secret"]
    credentials = {"username": "root", "password": password}

    with Server(env) as server, httpx.Client(base_url=server.url) as http:
        plain = http.post("/auth/login", json=credentials).json()
        assert plain["scope"] == "notes:read"
        oauth = http.post(
            "/oauth/token",
            data={"grant_type": "password", **credentials},
            auth=("web-client-1", secret),
        ).json()
        dialect = http.post("/api/login", json=credentials).json()
        for token in (plain["access_token"], oauth["access_token"], dialect["access_token"]):
            refused = http.get("/admin/users", headers=bearer(token))
            assert refused.status_code == 403
            assert refused.json()["error"] == "insufficient_scope"
            verify = http.get(
                "/auth/verify", params={"scope": "gatepass:admin"}, headers=bearer(token)
            )
            assert verify.status_code == 403

        named = http.post("/auth/login", json={**credentials, "scope": "gatepass:admin"}).json()
        assert http.get("/admin/users", headers=bearer(named["access_token"])).status_code == 200
        refreshed = http.post("/auth/refresh", json={"refresh_token": named["refresh_token"]})
        assert refreshed.json()["scope"] == "gatepass:admin"

        api = http.post("/auth/login", json={**credentials, "resource": NOTES}).json()
        claims = jwt.decode(api["access_token"], options={"verify_signature": False})
        assert (claims["aud"], claims["scope"]) == (NOTES, "notes:read")
        ok = http.get(
            "/auth/verify", params={"audience": NOTES}, headers=bearer(api["access_token"])
        )
        assert ok.status_code == 200
        other = http.get("/auth/verify", headers=bearer(api["access_token"]))
        assert other.status_code == 401
        unknown = http.post("/auth/login", json={**credentials, "resource": "https://x.example"})
        assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_target")
    assert "Traceback" not in server.log.read_text()
