"""The flood client's pure parts."""

from __future__ import annotations

from bench import flood


def test_response_head() -> None:
    head = (
        b"HTTP/1.1 503 Service Unavailable\r\ndate: Thu, 03 Dec 2026 00:11:06 GMT\r\n"
        b"retry-after: 1\r\nContent-Length: 70\r\ncontent-type: application/json"
    )
    status, headers = flood.parse_head(head)
    assert status == 503
    assert headers["retry-after"] == "1"
    assert headers["content-length"] == "70"


def test_log_counts_refusals_with_retry_after() -> None:
    log = flood.FloodLog()
    log.record(200, {}, 80.0)
    log.record(503, {"retry-after": "1"}, 2.0)
    log.record(503, {}, 3.0)
    log.record(429, {}, 1.0)
    assert log.statuses == {200: 1, 503: 2, 429: 1}
    assert log.refused_with_retry_after == 1
    assert log.ok_ms == [80.0]
    assert log.refused_ms == [2.0, 3.0]


def test_nearest_rank_percentile() -> None:
    values = [float(v) for v in range(1, 101)]
    assert flood.percentile(values, 50) == 50
    assert flood.percentile(values, 99) == 99
    assert flood.percentile(values, 100) == 100
    assert flood.percentile([7.0], 99) == 7
    assert flood.percentile([], 99) == 0


def test_login_request_is_valid_http() -> None:
    request = flood.login_request("127.0.0.1", 8080, '{"username": "é"}')
    head, body = request.split(b"\r\n\r\n")
    assert head.startswith(b"POST /auth/login HTTP/1.1\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    assert body.decode() == '{"username": "é"}'
