"""One scripted session against a real server process, then: exact metric values, a log with
one JSON event per line and request ids, and no secret anywhere in that log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.ops.scripted import REQUEST_ID, ScriptedRun, run_script, sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> ScriptedRun:
    return run_script(Path(tmp_path_factory.mktemp("scripted")))


def test_the_script_did_what_it_says(scripted):
    statuses = {key: response.status_code for key, response in scripted.responses.items()}
    assert statuses == {
        "alice login": 200,
        "refresh": 200,
        "reuse": 401,
        "client login": 200,
        "api key login": 200,
        "me": 200,
        "logout": 204,
        "oauth": 200,
        "carol wrong 0": 401,
        "carol wrong 1": 401,
        "carol wrong 2": 429,
        "admin login": 200,
        "admin missing user": 404,
        "admin create": 201,
        "admin passwd": 204,
        "bad request id": 200,
        "unmatched": 404,
    }


@pytest.mark.parametrize(
    ("name", "labels", "value"),
    [
        (
            "gatepass_logins_total",
            {"surface": "native", "method": "password", "outcome": "success"},
            2,
        ),
        (
            "gatepass_logins_total",
            {"surface": "native", "method": "password", "outcome": "failure"},
            2,
        ),
        (
            "gatepass_logins_total",
            {"surface": "native", "method": "client_secret", "outcome": "success"},
            1,
        ),
        (
            "gatepass_logins_total",
            {"surface": "native", "method": "api_key", "outcome": "success"},
            1,
        ),
        (
            "gatepass_logins_total",
            {"surface": "oauth", "method": "client_secret", "outcome": "success"},
            1,
        ),
        ("gatepass_login_throttled_total", {}, 1),
        ("gatepass_login_lockouts_total", {"kind": "account"}, 1),
        ("gatepass_token_refreshes_total", {"surface": "native"}, 1),
        ("gatepass_refresh_reuse_detected_total", {"surface": "native"}, 1),
        # reuse revoked alice's session, logout the API key's session and its access token
        ("gatepass_revocations_total", {"kind": "session"}, 2),
        ("gatepass_revocations_total", {"kind": "token"}, 1),
        # the client's and the admin's sessions are left
        ("gatepass_active_sessions", {}, 2),
        # alice, carol twice, admin, dave created, dave's password set
        ("gatepass_password_hash_wait_seconds_count", {}, 6),
        ("gatepass_password_hash_in_flight", {}, 0),
        ("gatepass_password_hash_queue_depth", {}, 0),
        ("gatepass_password_hash_rejected_total", {}, 0),
        ("gatepass_storage_errors_total", {"backend": "database"}, 0),
        (
            "gatepass_http_requests_total",
            {"route": "/auth/login", "method": "POST", "status": "200"},
            4,
        ),
        (
            "gatepass_http_requests_total",
            {"route": "/auth/login", "method": "POST", "status": "401"},
            2,
        ),
        (
            "gatepass_http_requests_total",
            {"route": "/auth/login", "method": "POST", "status": "429"},
            1,
        ),
        (
            "gatepass_http_requests_total",
            {"route": "/auth/refresh", "method": "POST", "status": "401"},
            1,
        ),
        # route templates, not raw paths
        (
            "gatepass_http_requests_total",
            {"route": "/admin/users/{user}", "method": "GET", "status": "404"},
            1,
        ),
        (
            "gatepass_http_requests_total",
            {"route": "/admin/users/{user}/password", "method": "PUT", "status": "204"},
            1,
        ),
        (
            "gatepass_http_requests_total",
            {"route": "<unmatched>", "method": "GET", "status": "404"},
            1,
        ),
        (
            "gatepass_http_request_duration_seconds_count",
            {"route": "/auth/login", "method": "POST"},
            7,
        ),
        ("gatepass_audit_events_total", {"event": "admin.user.create", "outcome": "success"}, 1),
    ],
)
def test_metric_values_after_the_script(scripted, name, labels, value):
    assert sample(scripted.metrics, name, **labels) == value


def test_no_raw_path_becomes_a_label(scripted):
    assert "/admin/users/nobody" not in scripted.metrics
    assert "/no/such/path" not in scripted.metrics


def test_every_log_line_is_one_json_event(scripted):
    lines = [line for line in scripted.log.splitlines() if line.startswith("{")]
    events = [json.loads(line) for line in lines]
    assert len(events) > 30
    assert all({"ts", "level", "logger", "msg", "pid"} <= event.keys() for event in events)
    # the only other line is the one `serve` prints on stdout before starting
    others = [line for line in scripted.log.splitlines() if not line.startswith("{")]
    assert len(others) == 1
    assert others[0].startswith("gatepass listening on http://")


def test_request_id_is_returned_and_logged_with_the_request_and_its_audit_event(scripted):
    login = scripted.responses["alice login"]
    assert login.headers["x-request-id"] == REQUEST_ID
    events = [json.loads(line) for line in scripted.log.splitlines() if line.startswith("{")]
    tagged = [(e["logger"], e["msg"]) for e in events if e.get("request_id") == REQUEST_ID]
    assert tagged == [("gatepass.audit", "audit"), ("gatepass.access", "request")]


def test_an_unsafe_request_id_is_replaced_by_a_generated_one(scripted):
    generated = scripted.responses["bad request id"].headers["x-request-id"]
    assert generated != "a ba ba b"
    assert re.fullmatch(r"[0-9a-f]{32}", generated)


@pytest.mark.parametrize(
    "what",
    [
        "admin password",
        "alice password",
        "carol password",
        "wrong password 0",
        "wrong password 1",
        "wrong password 2",
        "new user password",
        "changed password",
        "client secret",
        "api key",
        "basic header",
        "master key",
        "alice access",
        "alice refresh",
        "alice access 2",
        "alice refresh 2",
        "client access",
        "api key access",
        "api key refresh",
        "oauth access",
        "admin access",
        "admin refresh",
    ],
)
def test_no_secret_or_token_is_logged(scripted, what):
    value = scripted.secrets[what]
    assert len(value) >= 12
    assert value not in scripted.log


def test_no_password_hash_or_secret_digest_is_logged(scripted):
    digests = {k: v for k, v in scripted.secrets.items() if "hash" in k or "digest" in k}
    # 4 users (admin, alice, carol, dave: hash and its tail), 1 client, 1 API key
    assert len(digests) == 10
    assert [what for what, value in digests.items() if value in scripted.log] == []


def test_no_token_fragment_is_logged(scripted):
    """A JWT's signature part is unique to it: not even a piece of a token is in the log."""
    tokens = [v for k, v in scripted.secrets.items() if "access" in k or "refresh" in k]
    signatures = [token.rsplit(".", 1)[1] for token in tokens]
    assert [s for s in signatures if s[:20] in scripted.log] == []
