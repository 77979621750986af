"""Parsing wrk's output (samples in samples/ are real wrk 4.1 outputs from this suite's runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import wrk

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_bench_json_line_wins_over_the_text() -> None:
    result = wrk.parse_output(sample("hello.txt"))
    assert result.requests == 27327
    assert result.duration_s == pytest.approx(1.00336)
    assert result.p50_ms == pytest.approx(0.930)
    assert result.p99_ms == pytest.approx(4.672)
    assert result.errors == 0
    assert result.rps == pytest.approx(27327 / 1.00336)


def test_text_summary_alone_is_enough() -> None:
    text = "\n".join(
        line for line in sample("hello.txt").splitlines() if not line.startswith("BENCH_JSON")
    )
    result = wrk.parse_output(text)
    assert result.requests == 27327
    assert result.duration_s == pytest.approx(1.0)
    assert result.p50_ms == pytest.approx(0.93)
    assert result.p90_ms == pytest.approx(2.61)
    assert result.p99_ms == pytest.approx(4.67)


def test_non_2xx_answers_are_errors_and_not_throughput() -> None:
    result = wrk.parse_output(sample("non2xx.txt"))
    assert result.requests == 2077
    assert result.errors == 2077
    assert result.rps == 0
    assert result.all_rps == pytest.approx(2077)


def test_socket_errors_are_errors() -> None:
    result = wrk.parse_output(sample("socket_errors.txt"))
    assert result.requests == 0
    assert result.errors == 3
    assert result.p99_ms == 0


def test_counted_scenarios_use_the_lua_counters() -> None:
    result = wrk.parse_output(sample("peer_introspect.txt"))
    assert result.counters["n2xx"] == 2020
    assert result.errors == 0
    refresh = wrk.parse_output(sample("refresh.txt"))
    assert refresh.requests == 598
    assert refresh.p99_ms == pytest.approx(763.416)


def _line(**changes: object) -> str:
    data = json.loads(sample("password.txt").split("BENCH_JSON ", 1)[1])
    data.update(changes)
    return "BENCH_JSON " + json.dumps(data)


def test_refusals_and_wrong_bodies_are_counted() -> None:
    # Counters as a dialect-login run reported them when the hashing pool was full.
    result = wrk.parse_output(
        _line(requests=89, n2xx=64, n5xx=25, n503=25, n503_retry_after=25, bad=0)
    )
    assert result.errors == 25
    assert result.counters["n503_retry_after"] == 25
    # introspection answering 200 {"active": false}: 2xx, but wrong
    inactive = wrk.parse_output(_line(requests=71, n2xx=71, bad=5))
    assert inactive.errors == 5
    # a refresh queue that ran dry
    starved = wrk.parse_output(_line(requests=71, n2xx=60, n4xx=11, starved=11))
    assert starved.errors == 22


def test_logins_refused_by_the_hashing_bound_are_neither_errors_nor_throughput() -> None:
    # 25 answers 503 + Retry-After; 20 of them carried the hashing bound's description.
    line = _line(requests=89, n2xx=64, n5xx=25, n503=25, n503_retry_after=25, refused=20)
    result = wrk.parse_output(line)
    assert (result.errors, result.refused) == (5, 20)
    assert result.rps == pytest.approx(64 / result.duration_s)
    assert result.as_dict()["refused"] == 20


def test_uncounted_runs_rely_on_wrk_status_errors() -> None:
    data = _line(
        counted=False,
        n2xx=0,
        errors={"connect": 1, "read": 0, "write": 0, "status": 7, "timeout": 2},
    )
    assert wrk.parse_output(data).errors == 10


def test_garbage_is_refused() -> None:
    with pytest.raises(wrk.WrkError):
        wrk.parse_output("unable to connect to 127.0.0.1:9932 Connection refused")


def test_scripts_start_with_the_common_part() -> None:
    common = (wrk.LUA_DIR / "common.lua").read_text()
    for name in ("static", "refresh", "mixed", "authcode"):
        text = wrk.script_text(name)
        assert text.startswith(common)
        assert text.endswith((wrk.LUA_DIR / f"{name}.lua").read_text())


def test_authorization_code_flows_are_the_unit() -> None:
    # 29 answers: 18 redirects with a code, 11 token answers; 11 whole flows in 1.011 s
    result = wrk.parse_output(sample("authcode.txt"))
    assert (result.requests, result.units, result.errors) == (29, 11, 0)
    assert result.rps == pytest.approx(11 / 1.011464)
    assert result.all_rps == pytest.approx(29 / 1.011464)
