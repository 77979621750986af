"""/metrics: scrape token, switch, and multi-process aggregation across real workers."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.http.app import create_app
from tests.conftest import make_settings
from tests.ops.scripted import sample
from tests.system.server import Server, gatepass, gatepass_env

TOKEN = "scrape-token-0123456789abcdef"


async def _get(app, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path, headers=headers)


async def test_metrics_are_served_in_prometheus_text(settings: Settings, runtime: Container):
    response = await _get(create_app(settings, runtime=runtime), "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE gatepass_logins_total counter" in response.text
    assert "# TYPE gatepass_http_request_duration_seconds histogram" in response.text
    assert sample(response.text, "gatepass_active_sessions") == 0


async def test_a_scrape_token_is_required_when_set(tmp_path, clock):
    from gatepass.app.container import open_container

    settings = make_settings(tmp_path / "var", metrics_token=TOKEN)
    runtime = await open_container(settings, clock=clock, initialize=True)
    try:
        app = create_app(settings, runtime=runtime)
        missing = await _get(app, "/metrics")
        wrong = await _get(app, "/metrics", {"Authorization": "Bearer not-the-token-at-all"})
        right = await _get(app, "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    finally:
        await runtime.close()
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "invalid_token",
            "error_description": "a scrape token is required",
        }
        assert refused.headers["www-authenticate"] == 'Bearer realm="gatepass-metrics"'
    assert right.status_code == 200
    assert "gatepass_logins_total" in right.text


async def test_metrics_can_be_switched_off(tmp_path, clock):
    from gatepass.app.container import open_container

    settings = make_settings(tmp_path / "var", metrics_enabled=False)
    runtime = await open_container(settings, clock=clock, initialize=True)
    try:
        response = await _get(create_app(settings, runtime=runtime), "/metrics")
    finally:
        await runtime.close()
    assert response.status_code == 404


@pytest.mark.slow
def test_two_workers_report_counters_aggregated_across_processes(tmp_path):
    env = gatepass_env(tmp_path / "var", GATEPASS_PURGE_INTERVAL="0")
    assert gatepass("init", env=env).returncode == 0
    with Server(env, workers=2) as server:
        served_by: set[int] = set()
        requests = 0
        deadline = time.monotonic() + 30
        # New connections until both workers have answered some (the kernel spreads them).
        while len(served_by) < 2 or requests < 40:
            assert time.monotonic() < deadline, "the second worker never answered"
            with httpx.Client(base_url=server.url) as http:
                assert http.get("/healthz").status_code == 200
            requests += 1
            if requests % 10 == 0:
                served_by = _pids_serving_healthz(server.log.read_text())
        scrapes = []
        for _ in range(6):  # whichever worker answers, it reports every worker's requests
            with httpx.Client(base_url=server.url) as http:
                scrapes.append(http.get("/metrics").text)
        pids = _pids_serving_healthz(server.log.read_text())
    assert len(pids) == 2
    for text in scrapes:
        labels = {"route": "/healthz", "method": "GET", "status": "200"}
        assert sample(text, "gatepass_http_requests_total", **labels) == requests
    metrics_dir = tmp_path / "var" / "metrics"
    assert {path.name.split("_")[-1] for path in metrics_dir.glob("counter_*.db")} >= {
        f"{pid}.db" for pid in pids
    }


def _pids_serving_healthz(log: str) -> set[int]:
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return {e["pid"] for e in events if e.get("route") == "/healthz" and e["msg"] == "request"}
