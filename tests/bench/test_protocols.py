"""The server-variant comparison's pure parts (bench/protocols.py)."""

from __future__ import annotations

from pathlib import Path

from bench import protocols


def test_the_bounded_variant_is_gatepass_serve_itself() -> None:
    argv = protocols._argv("bounded", 8080, Path("/venv/bin/gatepass"))
    assert argv == [
        "/venv/bin/gatepass",
        "serve",
        "--port",
        "8080",
        "--workers",
        "2",
        "--app-factory",
        "bench.app:app_from_env",
    ]


def test_table_shows_medians_p99_and_cpu_per_request() -> None:
    results = {
        "stock": {
            "cc_oauth": {"rps": 400.4, "p99_ms": 337.2, "cpu_ms": 0.6794, "errors": 0},
            "verify": {"rps": 1772.0, "p99_ms": 50.5, "cpu_ms": 0.162, "errors": 1},
        }
    }
    assert protocols.table(results).splitlines()[2] == (
        "| stock | 400 (337.2) [0.679] | 1,772 (50.5) [0.162] | 1 |"
    )


def test_the_parse_request_is_one_whole_request() -> None:
    head, body = protocols.TOKEN_REQUEST.split(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
