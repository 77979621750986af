"""Bounded connections against a real `gatepass serve` (issue 22 §4), over real sockets: huge
heads are refused early and cost the worker no memory, slow heads are cut at `header_timeout`,
and a worker serves at most `max_connections` connections."""

from __future__ import annotations

import http.client
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.procs import rss_kb
from tests.system.server import Server, gatepass, gatepass_env

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 2.0
CHUNK = 64 * 1024
RSS_BOUND_KB = 20 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("limits") / "var"
    env = gatepass_env(
        home,
        GATEPASS_HEADER_TIMEOUT=f"{HEADER_TIMEOUT:g}s",
        GATEPASS_LOG_REQUESTS="false",
    )
    assert gatepass("init", env=env).returncode == 0
    with Server(env) as started:  # one worker: the serving process is the started one
        yield started


def _rss_kb(pid: int) -> int:
    kb = rss_kb(pid)
    assert kb is not None, f"no VmRSS for {pid}"
    return kb


def _get(server: Server, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/readyz", headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


def _warm(server: Server) -> int:
    """The worker's RSS once it has served a few requests (imports and caches settled)."""
    for _ in range(20):
        assert _get(server) == 200
    return _rss_kb(server.process.pid)


def _flood_head(port: int, shape: str, limit_bytes: int) -> tuple[int, bytes]:
    """Send a head of `shape` that never ends until the server answers and closes (or
    `limit_bytes` were sent, or 30 s passed); returns the bytes sent and the server's answer."""
    prefix, payload = HEAD_SHAPES[shape]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent, answer = 0, b""
    deadline = time.monotonic() + 30
    try:
        sock.sendall(prefix)
        sent = len(prefix)
        while sent < limit_bytes and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable:
                break
            if writable:
                sent += sock.send(payload)
        sock.settimeout(10)
        while chunk := sock.recv(65536):
            answer += chunk
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        sock.close()
    return sent, answer


# (what starts the head, what is sent again and again after it)
HEAD_SHAPES = {
    "one huge header": (b"GET /readyz HTTP/1.1\r\nHost: t\r\nX-Big: ", b"a" * CHUNK),
    "a huge request line": (b"GET /readyz?q=", b"a" * CHUNK),
    "many small headers": (b"GET /readyz HTTP/1.1\r\nHost: t\r\n", b"X-A: b\r\n" * 8192),
}


@pytest.mark.parametrize("shape", sorted(HEAD_SHAPES))
def test_a_400_mb_head_is_refused_long_before_its_end_and_costs_no_memory(
    server: Server, shape: str
) -> None:
    before = _warm(server)

    sent, answer = _flood_head(server.port, shape, 400 * 1024 * 1024)

    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert b'"error":"request_too_large"' in answer
    assert sent < 20 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    assert _rss_kb(server.process.pid) - before < RSS_BOUND_KB
    assert _get(server) == 200


def _flood_heads_at_once(
    port: int, shape: str, count: int, limit_bytes: int, pid: int
) -> tuple[list[bytes], int]:
    """`count` connections each sending a never-ending head of `shape` (up to `limit_bytes`)
    from one thread: a connection stops sending the moment its answer is readable, so no
    scheduling delay of ours makes the server's lingering close end in a reset. Returns the
    answers and the highest RSS of `pid` seen meanwhile."""
    prefix, payload = HEAD_SHAPES[shape]
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    sent = dict.fromkeys(socks, 0)
    answers = {sock: b"" for sock in socks}
    answering: set[socket.socket] = set()
    open_socks = set(socks)
    peak = 0
    deadline = time.monotonic() + 60
    try:
        for sock in socks:
            sock.sendall(prefix)
            sock.setblocking(False)
        while open_socks and time.monotonic() < deadline:
            peak = max(peak, _rss_kb(pid))
            sending = [s for s in open_socks - answering if sent[s] < limit_bytes]
            readable, writable, _ = select.select(list(open_socks), sending, [], 1)
            for sock in readable:
                answering.add(sock)
                try:
                    chunk = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                answers[sock] += chunk
                if not chunk:
                    open_socks.discard(sock)
            for sock in writable:
                if sock in answering:
                    continue
                try:
                    sent[sock] += sock.send(payload)
                except (BlockingIOError, InterruptedError):
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    open_socks.discard(sock)
    finally:
        for sock in socks:
            sock.close()
    return [answers[sock] for sock in socks], peak


def test_twenty_connections_of_10_mb_heads_at_once_are_bounded(server: Server) -> None:
    before = _warm(server)

    answers, peak = _flood_heads_at_once(
        server.port, "one huge header", 20, 10 * 1024 * 1024, server.process.pid
    )

    assert [answer[:12] for answer in answers] == [b"HTTP/1.1 431"] * 20
    assert peak - before < RSS_BOUND_KB
    assert _rss_kb(server.process.pid) - before < RSS_BOUND_KB


def test_a_16_kib_cookie_is_served(server: Server) -> None:
    cookie = "session=" + "c" * (16 * 1024)
    assert _get(server, {"Cookie": cookie}) == 200


def test_a_trickled_head_is_cut_at_header_timeout(server: Server) -> None:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    began = time.monotonic()
    answer = b""
    try:
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n")
        while True:  # one header line every 0.7 s: each one arrives well within the timeout
            readable, _, _ = select.select([sock], [], [], 0.7)
            if readable:
                break
            sock.sendall(b"X-Slow: 1\r\n")
        while chunk := sock.recv(65536):
            answer += chunk
    finally:
        sock.close()
    elapsed = time.monotonic() - began

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer[:200]
    # The server's timer may fire up to a millisecond early as this process measures it
    # (uvloop/libuv keeps loop time in whole milliseconds): 10 ms of slack, no more.
    assert HEADER_TIMEOUT - 0.01 <= elapsed < HEADER_TIMEOUT + 2.0
    assert _get(server) == 200  # a complete request on a new connection is served


def test_500_incomplete_heads_are_all_closed_after_the_timeout(server: Server) -> None:
    sockets = []
    try:
        for _ in range(500):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\nX-Half: ")
            sockets.append(sock)
        opened = time.monotonic()
        open_ones = set(sockets)
        while open_ones and time.monotonic() - opened < HEADER_TIMEOUT + 5:
            readable, _, _ = select.select(list(open_ones), [], [], 0.5)
            for sock in readable:
                try:
                    while sock.recv(65536):
                        pass
                except ConnectionResetError:
                    pass
                open_ones.discard(sock)
        assert not open_ones, f"{len(open_ones)} of 500 connections still open"
    finally:
        for sock in sockets:
            sock.close()
    assert _get(server) == 200


def _open(port: int) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.connect()
    return connection


def _status_on(connection: http.client.HTTPConnection) -> tuple[int, bytes]:
    connection.request("GET", "/readyz")
    response = connection.getresponse()
    return response.status, response.read()


def test_beyond_max_connections_a_request_is_answered_503(tmp_path: Path) -> None:
    env = gatepass_env(tmp_path / "var", GATEPASS_MAX_CONNECTIONS="3")
    assert gatepass("init", env=env).returncode == 0
    with Server(env) as server:
        time.sleep(0.3)  # the readiness probes' connections are gone
        held = [_open(server.port) for _ in range(3)]
        try:
            assert [_status_on(c)[0] for c in held] == [200, 200, 200]  # all 3 kept alive
            extra = _open(server.port)
            status, body = _status_on(extra)
            assert (status, body) == (503, b"Service Unavailable")
            extra.close()
            held.pop().close()
            time.sleep(0.3)
            held.append(_open(server.port))
            assert _status_on(held[-1])[0] == 200  # back within the limit
        finally:
            for connection in held:
                connection.close()
