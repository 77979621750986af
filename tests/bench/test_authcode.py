"""The authorization code flow scenario: lua/authcode.lua run by wrk against a small
authorization server in this process, which checks every request as a real one would (the
cookie, PKCE S256, client authentication, codes used once) and can be told to answer wrongly,
so the script's counting is checked against what the server really answered."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bench import authcode, wrk

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")

COOKIE = "sid=signed-in"
CLIENT = authcode.AppClient("app", "s3cret", "/authorize", "/token", COOKIE)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, bad_authorize_every: int = 0, bad_token_every: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.codes: dict[str, str] = {}  # code -> challenge
        self.lock = threading.Lock()
        self.bad_authorize_every = bad_authorize_every
        self.bad_token_every = bad_token_every
        self.authorizes = self.tokens = 0
        self.codes_given = self.tokens_given = self.wrong = 0


class Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(status)
        if location is not None:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        server = self.server
        with server.lock:
            server.authorizes += 1
            every = server.bad_authorize_every
            wrong = every and server.authorizes % every == 0
        ok = (
            url.path == CLIENT.authorize_path
            and self.headers.get("Cookie") == COOKIE
            and query.get("client_id") == CLIENT.client_id
            and query.get("redirect_uri") == authcode.REDIRECT_URI
            and query.get("scope") == authcode.SCOPE
            and query.get("code_challenge_method") == "S256"
            and query.get("nonce") == "n" + query.get("state", "")
        )
        if not ok or wrong:
            with server.lock:
                server.wrong += 1
            self._answer(303, location="/login?return_to=x")  # as if signed out
            return
        code = secrets.token_urlsafe(32)
        with server.lock:
            server.codes[code] = query["code_challenge"]
            server.codes_given += 1
        state = query["state"]
        self._answer(303, location=f"{authcode.REDIRECT_URI}?code={code}&state={state}&iss=x")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        server = self.server
        with server.lock:
            server.tokens += 1
            wrong = server.bad_token_every and server.tokens % server.bad_token_every == 0
            challenge = server.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        ok = (
            self.path == CLIENT.token_path
            and self.headers.get("Authorization") == CLIENT.basic
            and form.get("grant_type") == "authorization_code"
            and form.get("redirect_uri") == authcode.REDIRECT_URI
            and challenge is not None
            and base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
        )
        if not ok or wrong:
            with server.lock:
                server.wrong += 1
            self._answer(400, b'{"error":"invalid_grant"}')
            return
        with server.lock:
            server.tokens_given += 1
        self._answer(200, json.dumps({"access_token": "a.b.c", "id_token": "d.e.f"}).encode())


def _serve(**options: int) -> Iterator[FakeServer]:
    server = FakeServer(**options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def honest() -> Iterator[FakeServer]:
    yield from _serve()


@pytest.fixture
def flaky() -> Iterator[FakeServer]:
    yield from _serve(bad_authorize_every=5, bad_token_every=4)


def _load(server: FakeServer, tmp_path: Path) -> wrk.WrkResult:
    spec = authcode.spec("fake", CLIENT, lambda: authcode.pkce_file(tmp_path / "pkce.txt", 16))
    url = f"http://127.0.0.1:{server.server_address[1]}{spec.path}"
    result, _ = wrk.run(url, spec.script, wrk.Load(2, 4, 1), tmp_path, spec.env())
    return result


def test_every_flow_is_authorize_then_token_and_counts_once(
    honest: FakeServer, tmp_path: Path
) -> None:
    result = _load(honest, tmp_path)
    assert honest.wrong == 0  # every request had the right shape, cookie, PKCE and secret
    assert result.errors == 0
    assert result.units is not None
    assert result.units > 10
    assert result.units == result.counters["flows"] == result.counters["n2xx"]
    # wrk stops with at most one request in flight per connection
    assert 0 <= honest.tokens_given - result.units <= 4
    assert 0 <= honest.codes_given - honest.tokens_given <= 4
    assert result.rps == pytest.approx(result.units / result.duration_s)


def test_wrong_answers_are_errors_and_no_throughput(flaky: FakeServer, tmp_path: Path) -> None:
    result = _load(flaky, tmp_path)
    assert flaky.wrong > 5
    # Each wrong answer the script read is one error (a sign-in redirect instead of a code,
    # a token answer of 400), and only right token answers are flows.
    assert 0 <= flaky.wrong - result.errors <= 4
    assert result.counters["n4xx"] > 0
    assert result.units == result.counters["n2xx"]
    assert 0 <= flaky.tokens_given - result.units <= 4
    assert result.rps == pytest.approx(result.units / result.duration_s)


def test_pkce_pairs_are_s256() -> None:
    verifier, challenge = authcode.pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert authcode.pkce_pair() != (verifier, challenge)


def test_units_decide_the_throughput() -> None:
    line = (
        'BENCH_JSON {"requests":105,"duration_us":1000000,"bytes":97573,'
        '"errors":{"connect":0,"read":0,"write":0,"status":2,"timeout":1},'
        '"latency_us":{"min":3425,"mean":43153.4,"max":230884,"p50":35472,"p90":76448,'
        '"p99":201522,"p999":230884},"counted":true,"units":true,"script":"authcode",'
        '"n2xx":50,"n3xx":53,"n4xx":2,"n5xx":0,"n503":0,"n503_retry_after":0,"bad":4,'
        '"starved":0,"refused":0,"flows":50}'
    )
    result = wrk.parse_output(line)
    # 53 redirects are not errors; 4 wrong answers + 1 socket timeout are
    assert (result.units, result.errors) == (50, 5)
    assert result.rps == pytest.approx(50.0)
    assert result.as_dict()["units"] == 50
