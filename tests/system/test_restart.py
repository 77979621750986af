"""A real server process: restarting it keeps users, keys and sessions."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.system.server import Server, gatepass, gatepass_env

pytestmark = pytest.mark.slow


def test_restart_keeps_users_keys_and_sessions(tmp_path):
    env = gatepass_env(tmp_path / "var")
    init = gatepass("init", "--admin", "root", "--json", env=env)
    assert init.returncode == 0, init.stderr
    password = json.loads(init.stdout)["password"]

    with Server(env) as server:
        login = httpx.post(
            f"{server.url}/auth/login", json={"username": "root", "password": password}
        )
        assert login.status_code == 200
        first = login.json()
        logged_out = httpx.post(
            f"{server.url}/auth/login", json={"username": "root", "password": password}
        ).json()
        bye = httpx.post(
            f"{server.url}/auth/logout",
            headers={"Authorization": f"Bearer {logged_out['access_token']}"},
        )
        assert bye.status_code == 204
        jwks_before = httpx.get(f"{server.url}/.well-known/jwks.json").json()
        # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says so.
        assert server.stop() == -15
        assert "Traceback" not in server.log.read_text()

    with Server(env) as server:
        assert httpx.get(f"{server.url}/.well-known/jwks.json").json() == jwks_before
        me = httpx.get(
            f"{server.url}/auth/me", headers={"Authorization": f"Bearer {first['access_token']}"}
        )
        assert me.status_code == 200
        assert me.json()["username"] == "root"
        assert me.json()["session"]["id"] == first["session_id"]
        refreshed = httpx.post(
            f"{server.url}/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert refreshed.status_code == 200
        still_out = httpx.get(
            f"{server.url}/auth/me",
            headers={"Authorization": f"Bearer {logged_out['access_token']}"},
        )
        assert still_out.status_code == 401
        again = httpx.post(
            f"{server.url}/auth/login", json={"username": "root", "password": password}
        )
        assert again.status_code == 200


def test_serve_refuses_to_start_without_its_master_key(tmp_path):
    env = gatepass_env(tmp_path / "var")
    assert gatepass("init", env=env).returncode == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "gatepass.db").write_bytes((tmp_path / "var" / "gatepass.db").read_bytes())
    result = gatepass("serve", "--port", "1", env=gatepass_env(copy))
    assert result.returncode == 1
    assert "no master key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
