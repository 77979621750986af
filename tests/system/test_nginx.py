"""A real nginx with `auth_request` to gatepass's `/auth/verify`, in front of the example API
(examples/protected_api.py, which verifies tokens itself with gatepass.verify).

Three real processes on free 127.0.0.1 ports: `gatepass serve`, the example API under uvicorn,
and nginx in the foreground with a config written to a temporary directory. The nginx config
here is the one docs/forward-auth.md shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gatepass.app.container import open_container
from gatepass.config import load_settings
from gatepass.core.clock import FrozenClock
from gatepass.core.models import RequestContext
from tests.system.processes import BoundedProcess
from tests.system.server import Server, free_port, gatepass, gatepass_env

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "nginx test password"

NGINX_CONF = """
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    upstream gatepass {{ server 127.0.0.1:{gatepass_port}; }}
    upstream notes_api {{ server 127.0.0.1:{api_port}; }}

    server {{
        listen 127.0.0.1:{port};

        location = /nginx-health {{ return 200 "ok"; }}

        # Reading notes needs a token with notes:read ...
        location /api/ {{
            auth_request /_gatepass/notes-read;
            # Pass on what gatepass said, overwriting anything the client sent.
            auth_request_set $gatepass_subject $upstream_http_x_gatepass_subject;
            auth_request_set $gatepass_scopes $upstream_http_x_gatepass_scopes;
            proxy_set_header X-Gatepass-Subject $gatepass_subject;
            proxy_set_header X-Gatepass-Scopes $gatepass_scopes;
            proxy_pass http://notes_api/;
        }}

        # ... and the admin area needs notes:admin.
        location /admin/ {{
            auth_request /_gatepass/notes-admin;
            proxy_pass http://notes_api/;
        }}

        location = /_gatepass/notes-read {{
            internal;
            proxy_pass http://gatepass/auth/verify?scope=notes:read;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}

        location = /_gatepass/notes-admin {{
            internal;
            proxy_pass http://gatepass/auth/verify?scope=notes:admin;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is required under CI (scripts/system-deps installs it)")
        pytest.skip("nginx is not installed (run scripts/system-deps)")
    return found


@dataclass
class Stack:
    gatepass: Server
    env: dict[str, str]
    home: Path
    proxy: str  # nginx's URL

    def login(self) -> dict[str, str]:
        response = httpx.post(
            f"{self.gatepass.url}/auth/login", json={"username": "nina", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        result: dict[str, str] = response.json()
        return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    nginx = nginx_binary()
    base = tmp_path_factory.mktemp("nginx-stack")
    gatepass_port, api_port, proxy_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{gatepass_port}"
    env = gatepass_env(base / "var", GATEPASS_ISSUER=issuer)
    assert gatepass("init", env=env).returncode == 0
    created = gatepass(
        "user", "add", "nina", "--scope", "notes:read", "--scope", "notes:write",
        "--password-stdin", env=env, input=PASSWORD,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    conf = base / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;" if os.geteuid() == 0 else "",
            tmp=base,
            port=proxy_port,
            gatepass_port=gatepass_port,
            api_port=api_port,
        )
    )
    api_env = {key: value for key, value in os.environ.items() if not key.startswith("GATEPASS_")}
    api_env["EXAMPLE_ISSUER"] = issuer
    with (
        Server(env, port=gatepass_port) as server,
        BoundedProcess(
            [
                sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(ROOT / "examples"),
                "protected_api:app_from_env", "--host", "127.0.0.1", "--port", str(api_port),
            ],
            env=api_env,
            log=base / "api.log",
        ) as api,
        BoundedProcess(
            [nginx, "-p", str(base), "-c", str(conf), "-g", "daemon off;"], log=base / "nginx.log"
        ) as proxy,
    ):  # fmt: skip
        api.wait_for(f"http://127.0.0.1:{api_port}/healthz")
        proxy.wait_for(f"http://127.0.0.1:{proxy_port}/nginx-health")
        yield Stack(server, env, base / "var", f"http://127.0.0.1:{proxy_port}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_reaches_the_api(stack):
    tokens = stack.login()
    response = httpx.get(f"{stack.proxy}/api/notes", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    body = response.json()
    # The API verified the token itself, and nginx passed on what gatepass said.
    assert body["subject"] == body["forwarded_subject"]
    assert body["notes"][0]["id"] == 1


def test_cloudio_style_presentation_passes_too(stack):
    tokens = stack.login()
    response = httpx.get(
        f"{stack.proxy}/api/notes", headers={"Authentication": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200


def test_no_token_gets_401_with_the_challenge(stack):
    response = httpx.get(f"{stack.proxy}/api/notes")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="gatepass"'


def test_a_revoked_token_gets_401(stack):
    tokens = stack.login()
    headers = bearer(tokens["access_token"])
    assert httpx.get(f"{stack.proxy}/api/notes", headers=headers).status_code == 200
    bye = httpx.post(f"{stack.gatepass.url}/auth/logout", headers=headers)
    assert bye.status_code == 204
    response = httpx.get(f"{stack.proxy}/api/notes", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def _expired_token(stack: Stack) -> str:
    """Issued an hour ago by the deployment's own key: signed right, expired long since."""
    settings = load_settings(env=stack.env)
    runtime = await open_container(settings, clock=FrozenClock(time.time() - 3600))
    try:
        issued = await runtime.auth.login_password(
            "nina", PASSWORD, scope=None, profile="native", ctx=RequestContext()
        )
    finally:
        await runtime.close()
    return issued.access_token


def test_an_expired_token_gets_401(stack):
    token = asyncio.run(_expired_token(stack))
    response = httpx.get(f"{stack.proxy}/api/notes", headers=bearer(token))
    assert response.status_code == 401


def test_a_missing_scope_gets_403(stack):
    tokens = stack.login()
    response = httpx.get(f"{stack.proxy}/admin/notes", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403


def test_post_requests_are_checked_too(stack):
    tokens = stack.login()
    created = httpx.post(f"{stack.proxy}/api/notes", headers=bearer(tokens["access_token"]))
    assert created.status_code == 201
    assert json.loads(created.text)["text"].startswith("written by ")
    refused = httpx.post(f"{stack.proxy}/api/notes")
    assert refused.status_code == 401


def test_a_client_cannot_spoof_the_forwarded_subject(stack):
    tokens = stack.login()
    response = httpx.get(
        f"{stack.proxy}/api/notes",
        headers={**bearer(tokens["access_token"]), "X-Gatepass-Subject": "someone-else"},
    )
    assert response.status_code == 200
    assert response.json()["forwarded_subject"] == response.json()["subject"]
    assert response.json()["forwarded_subject"] != "someone-else"
