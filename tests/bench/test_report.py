"""Medians, targets, Markdown and JSON of the benchmark report."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bench import report
from bench.procs import MemorySummary
from bench.report import GP_PG, GP_SQLITE, PEER, Scenario
from bench.wrk import WrkResult


def run(rps: float, p99: float = 10.0, errors: int = 0, seconds: float = 4.0) -> WrkResult:
    requests = round(rps * seconds) + errors
    return WrkResult(
        requests=requests, duration_s=seconds, p50_ms=p99 / 4, p99_ms=p99, errors=errors
    )


def scenario(server: str, key: str, *rates: float, p99: float = 10.0, errors: int = 0) -> Scenario:
    s = Scenario(key, key.replace("_", " "), server, 32)
    s.runs = [run(rate, p99, errors) for rate in rates]
    s.cpu_ms_per_request = [0.2 for _ in rates]
    return s


def flood(**changes: object) -> report.Flood:
    values: dict[str, object] = {
        "raw_rps": 60.0,
        "target_rps": 240.0,
        "offered_rps": 239.0,
        "seconds": 8,
        "statuses": {200: 480, 503: 1432},
        "refused_with_retry_after": 1432,
        "ok_p99_ms": 240.0,
        "refused_p50_ms": 2.0,
        "refused_p99_ms": 20.0,
        "client_lag_p99_ms": 1.0,
        "verify": run(1500, p99=12.0),
    }
    values.update(changes)
    return report.Flood(**values)  # type: ignore[arg-type]


def everything_met() -> report.Results:
    return report.Results(
        scenarios=[
            scenario(GP_SQLITE, "hello", 20000, 21000, 19000),
            scenario(GP_SQLITE, "verify", 12000, 11000, 13000),
            scenario(GP_SQLITE, "cc_oauth", 6000, 6600, 6300, p99=20),
            scenario(PEER, "cc", 4000, 4100, 3900, p99=30),
            scenario(GP_SQLITE, "introspect", 9000),
            scenario(PEER, "introspect", 5000),
            scenario(GP_SQLITE, "authcode", 300, 310, 290),
            scenario(PEER, "authcode", 240, 250, 245),
            scenario(GP_SQLITE, "password", 56, 57, 55),
            scenario(GP_SQLITE, "refresh", 2500),
            scenario(GP_PG, "refresh", 1600),
            scenario(GP_SQLITE, "mixed", 3000),
        ],
        argon2_rps=60.0,
        argon2_profile={"time_cost": 2},
        flood=flood(),
        memory=report.Memory(MemorySummary(110.0, 1.0, 112.0, 28), 300, "mixed"),
    )


def statuses(rows: list[report.TargetRow]) -> dict[str, str]:
    return {row.name: row.status for row in rows}


def test_median_of_runs() -> None:
    s = scenario(GP_SQLITE, "verify", 100, 300, 200)
    assert s.rps == pytest.approx(200)
    assert report.median([]) == 0
    assert report.median([1, 2, 3, 10]) == 2.5


def test_every_target_met() -> None:
    rows = report.evaluate(everything_met())
    assert len(rows) == 11
    assert set(statuses(rows).values()) == {report.MET}


def test_ratio_below_target_is_not_met() -> None:
    results = everything_met()
    results.scenarios[3] = scenario(PEER, "cc", 4500, p99=30)  # 6300 / 4500 = 1.4×
    row = report.evaluate(results)[0]
    assert row.status == report.NOT_MET
    assert row.measured.startswith("1.40×")


def test_p99_worse_than_peer_is_not_met() -> None:
    results = everything_met()
    results.scenarios[2] = scenario(GP_SQLITE, "cc_oauth", 9000, p99=31)
    assert report.evaluate(results)[0].status == report.NOT_MET


def test_errors_make_a_target_not_met_whatever_the_figure() -> None:
    results = everything_met()
    results.scenarios[4] = scenario(GP_SQLITE, "introspect", 90000, errors=3)
    row = statuses(report.evaluate(results))["Introspection vs oidc-provider"]
    assert row == f"{report.NOT_MET} (errors)"


def test_password_share_of_raw_argon2() -> None:
    results = everything_met()
    results.argon2_rps = 70.0  # 56 / 70 = 80 %
    row = report.evaluate(results)[3]
    assert row.status == report.NOT_MET
    assert row.measured.startswith("80.0%")


def test_flood_targets() -> None:
    results = everything_met()
    results.flood = flood(verify=run(1500, p99=30.0))
    assert statuses(report.evaluate(results))["/auth/verify p99 during login flood"] == (
        report.NOT_MET
    )
    for slow in (
        {"refused_p99_ms": 400.0},  # queued, not refused fast
        {"refused_with_retry_after": 1000},  # some 503s without Retry-After
        {"offered_rps": 120.0},  # only 2× the raw rate: not a flood
        {"statuses": {200: 480}, "refused_with_retry_after": 0},  # nothing refused
    ):
        results.flood = flood(**slow)
        rows = statuses(report.evaluate(results))
        assert rows["Logins beyond the in-flight bound refused fast"] == report.NOT_MET, slow


def test_the_flood_is_judged_against_the_raw_rate_it_was_set_from() -> None:
    results = everything_met()
    results.argon2_rps = 70.0  # the start figure; the flood used the rounds' highest, 60/s
    results.flood = flood(raw_rps=60.0, offered_rps=239.0)
    rows = statuses(report.evaluate(results))
    assert rows["Logins beyond the in-flight bound refused fast"] == report.MET
    results.flood = flood(raw_rps=80.0, offered_rps=239.0)  # 3× the rate it was set from
    rows = statuses(report.evaluate(results))
    assert rows["Logins beyond the in-flight bound refused fast"] == report.NOT_MET


def test_refused_logins_in_the_mixed_run_are_not_errors() -> None:
    results = everything_met()
    mixed = scenario(GP_SQLITE, "mixed", 3000)
    counters = {"n2xx": 11_960, "n5xx": 40, "n503": 40, "n503_retry_after": 40, "refused": 40}
    mixed.runs = [
        WrkResult(requests=12_000, duration_s=4, p50_ms=1, p99_ms=9, refused=40, counters=counters)
    ]
    results.scenarios[-1] = mixed
    rows = statuses(report.evaluate(results))
    assert rows["Steady RSS per worker (mixed run)"] == report.MET
    assert rows["RSS growth over the mixed run"] == report.MET
    assert mixed.rps == pytest.approx(11_960 / 4)
    line = report.scenario_table([mixed]).splitlines()[2]
    assert "| 0; 40 logins refused (503 + Retry-After, by design) |" in line
    # A 503 that is not the hashing bound's refusal stays an error.
    mixed.runs = [dataclasses.replace(mixed.runs[0], errors=1)]
    rows = statuses(report.evaluate(results))
    assert rows["Steady RSS per worker (mixed run)"] == f"{report.NOT_MET} (errors)"


def test_missing_measurements_are_not_measured_not_met() -> None:
    rows = report.evaluate(report.Results(scenarios=[]))
    assert set(statuses(rows).values()) == {report.NOT_MEASURED}


def test_memory_growth_needs_a_long_enough_run() -> None:
    results = everything_met()
    results.memory = report.Memory(MemorySummary(110.0, 1.0, 112.0, 5), 60, "mixed")
    rows = statuses(report.evaluate(results))
    assert rows["RSS growth over the mixed run"] == report.NOT_MEASURED
    results.memory = report.Memory(MemorySummary(130.0, 9.0, 140.0, 28), 300, "mixed")
    rows = statuses(report.evaluate(results))
    assert rows["Steady RSS per worker (mixed run)"] == report.NOT_MET
    assert rows["RSS growth over the mixed run"] == report.NOT_MET


def test_markdown_tables_flag_errors() -> None:
    results = everything_met()
    results.scenarios[1] = scenario(GP_SQLITE, "verify", 12000, errors=17)
    results.stack = [
        report.StackRow(1, "hello", 9000, 3.0, 0),
        report.StackRow(2, "hello", 17000, 4.0, 2),
    ]
    text = report.markdown(results, report.evaluate(results), "Run of today.")
    assert text.startswith("Run of today.\n\n### Targets\n\n| target | measured |")
    verify_line = next(line for line in text.splitlines() if line.startswith("| ⚠ verify"))
    assert "| **17** |" in verify_line
    assert "**NOT MET (errors)**" in text
    assert "| 2 | 17,000 (4.0) ⚠ 2 errors |" in text
    hello_line = next(line for line in text.splitlines() if line.startswith("| hello"))
    assert hello_line.split(" | ")[3] == "20,000"  # the median of the three runs
    assert "20,000, 21,000, 19,000" in hello_line


def test_json_shape() -> None:
    results = everything_met()
    targets = report.evaluate(results)
    data = report.as_json(results, targets, {"mode": "full"})
    data = json.loads(json.dumps(data))  # serialisable as is
    assert data["schema"] == report.SCHEMA
    assert data["mode"] == "full"
    assert data["argon2"]["verify_rps_all_cores"] == 60.0
    first = data["scenarios"][0]
    assert set(first) >= {
        "key",
        "server",
        "median_rps",
        "median_p50_ms",
        "median_p99_ms",
        "median_cpu_ms_per_request",
        "errors",
        "runs",
    }
    assert set(first["runs"][0]) >= {"requests", "rps", "p50_ms", "p99_ms", "errors"}
    assert data["flood"]["statuses"] == {"200": 480, "503": 1432}
    assert data["memory"]["steady_mb_per_worker"] == 110.0
    assert [t["status"] for t in data["targets"]] == ["MET"] * 11


def test_docs_markers_are_rewritten_and_nothing_else() -> None:
    page = f"# Perf\n\nintro\n\n{report.BEGIN_MARK}\nold table\n{report.END_MARK}\n\nafter\n"
    new = report.replace_between_markers(page, "| new |\n")
    assert new == f"# Perf\n\nintro\n\n{report.BEGIN_MARK}\n| new |\n{report.END_MARK}\n\nafter\n"
    assert report.replace_between_markers(new, "| new |") == new
    with pytest.raises(ValueError, match="bench:begin"):
        report.replace_between_markers("no markers", "x")


def test_error_detail_names_the_statuses() -> None:
    s = scenario(GP_SQLITE, "mixed", 3000)
    s.runs = [
        WrkResult(
            requests=1000,
            duration_s=1,
            p50_ms=1,
            p99_ms=9,
            errors=9,
            counters={"n2xx": 991, "n5xx": 7, "n503": 6, "n503_retry_after": 6, "n4xx": 2},
        )
    ]
    assert s.error_detail() == "503: 6, 6 with Retry-After; other 5xx: 1; 4xx: 2"
    line = report.scenario_table([s]).splitlines()[2]
    assert "| **9** (503: 6, 6 with Retry-After; other 5xx: 1; 4xx: 2) |" in line


def test_password_share_pairs_each_round_with_its_raw_rate() -> None:
    results = everything_met()
    # rounds of 56, 57, 55 logins/s; the machine slowed down in the last round
    results.argon2_round_rps = [60.0, 60.0, 40.0]
    row = report.evaluate(results)[3]
    # ratios 0.933, 0.95, 1.375 -> median 0.95
    assert row.measured.startswith("95.0% (median of per-round ratios")
    assert row.status == report.MET
    results.argon2_round_rps = [70.0, 70.0, 70.0]
    assert report.evaluate(results)[3].status == report.NOT_MET
    assert "63.2/s at the start, 70.0/s, 70.0/s, 70.0/s in the rounds" in report.extras_table(
        report.Results(scenarios=[], argon2_rps=63.2, argon2_round_rps=[70.0, 70.0, 70.0])
    )


def test_authorization_code_flow_needs_1_2_times_the_peer() -> None:
    results = everything_met()
    row = statuses(report.evaluate(results))["Authorization code flow vs oidc-provider"]
    assert row == report.MET  # 300 / 245 = 1.22×
    results.scenarios[7] = scenario(PEER, "authcode", 260)  # 300 / 260 = 1.15×
    found = next(
        r for r in report.evaluate(results) if r.name == "Authorization code flow vs oidc-provider"
    )
    assert found.status == report.NOT_MET
    assert found.measured == "1.15× (300 vs 260 flows/s)"
    assert found.target == "≥ 1.2× oidc-provider"
    results.scenarios[6] = scenario(GP_SQLITE, "authcode", 900, errors=1)
    row = statuses(report.evaluate(results))["Authorization code flow vs oidc-provider"]
    assert row == f"{report.NOT_MET} (errors)"


def test_refresh_targets_are_2000_on_sqlite_and_1500_on_postgresql() -> None:
    results = everything_met()
    rows = {row.name: row for row in report.evaluate(results)}
    assert rows["Refresh with rotation (SQLite)"].target == "≥ 2,000/s"
    assert rows["Refresh with rotation (PostgreSQL)"].target == "≥ 1,500/s"
    assert rows["Refresh with rotation (PostgreSQL)"].status == report.MET  # 1,600/s
    results.scenarios[10] = scenario(GP_PG, "refresh", 1400)
    rows = {row.name: row for row in report.evaluate(results)}
    assert rows["Refresh with rotation (PostgreSQL)"].status == report.NOT_MET
    results.scenarios[9] = scenario(GP_SQLITE, "refresh", 1900)
    rows = {row.name: row for row in report.evaluate(results)}
    assert rows["Refresh with rotation (SQLite)"].status == report.NOT_MET


def test_error_detail_of_a_flow_does_not_count_redirects() -> None:
    s = scenario(GP_SQLITE, "authcode", 100)
    counters = {"n2xx": 60, "n3xx": 70, "n4xx": 3, "n5xx": 1, "bad": 9, "flows": 60}
    s.runs = [
        WrkResult(requests=134, duration_s=1, p50_ms=1, p99_ms=9, errors=0, counters={}, units=60),
        WrkResult(
            requests=134, duration_s=1, p50_ms=1, p99_ms=9, errors=9, counters=counters, units=60
        ),
    ]
    assert s.error_detail() == "wrong answers: 9 (4xx: 3, 5xx: 1)"
    s.runs = s.runs[:1]
    assert s.error_detail() == ""
