"""/readyz with Redis, and graceful shutdown of a real server with a request in flight."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from gatepass.app.container import open_container
from gatepass.http.app import create_app
from gatepass.observability.metrics import STORAGE_ERRORS
from tests.backends import PrivateRedis
from tests.conftest import make_settings
from tests.ops.scripted import sample
from tests.system.server import Server, gatepass, gatepass_env


@pytest.mark.redis
async def test_readyz_reports_redis_when_configured(tmp_path, clock):
    with PrivateRedis() as redis:
        settings = make_settings(tmp_path / "var", redis_url=redis.url)
        runtime = await open_container(settings, clock=clock, initialize=True)
        try:
            app = create_app(settings, runtime=runtime)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                ready = await http.get("/readyz")
                errors_before = STORAGE_ERRORS.labels("redis")._value.get()
                redis.stop()
                not_ready = await http.get("/readyz")
                errors_after = STORAGE_ERRORS.labels("redis")._value.get()
        finally:
            await runtime.close()
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "signing_key": "ok"},
    }
    assert not_ready.status_code == 503
    assert not_ready.headers["cache-control"] == "no-store"
    assert not_ready.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unavailable", "signing_key": "ok"},
    }
    assert errors_after == errors_before + 1


IN_FLIGHT = "gatepass_password_hash_in_flight"


@pytest.mark.slow
def test_sigterm_lets_an_in_flight_login_finish(tmp_path):
    # A deliberately slow password hash (about a second) keeps the login in flight.
    env = gatepass_env(
        tmp_path / "var",
        GATEPASS_ARGON2_MEMORY_COST="65536",
        GATEPASS_ARGON2_TIME_COST="12",
        GATEPASS_PURGE_INTERVAL="0",
    )
    password = "slow-Pa55word-0a9b8c"
    assert gatepass("init", env=env).returncode == 0
    added = gatepass("user", "add", "sam", "--password-stdin", env=env, input=password + "\n")
    assert added.returncode == 0, added.stderr
    body = {"username": "sam", "password": password}
    with Server(env) as server:
        started = time.monotonic()
        assert httpx.post(f"{server.url}/auth/login", json=body, timeout=30).status_code == 200
        one_login = time.monotonic() - started
        assert one_login > 0.3, f"the login is too fast to be caught in flight ({one_login:.2f}s)"
        result: dict[str, httpx.Response] = {}

        def login() -> None:
            result["response"] = httpx.post(f"{server.url}/auth/login", json=body, timeout=30)

        thread = threading.Thread(target=login)
        thread.start()
        # Wait until the login is hashing (the pool's gauge says so), then stop the server.
        deadline = time.monotonic() + 10
        while sample(httpx.get(f"{server.url}/metrics").text, IN_FLIGHT) != 1:
            assert time.monotonic() < deadline, "the login never reached the hashing pool"
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        code = server.process.wait(timeout=20)
    response = result["response"]
    assert response.status_code == 200
    assert set(response.json()) >= {"access_token", "refresh_token"}
    # uvicorn drains, runs the shutdown, then re-raises SIGTERM to end with its default action.
    assert code == -signal.SIGTERM
    log = server.log.read_text()
    assert log.index('"Shutting down"') < log.index('"Application shutdown complete."')
