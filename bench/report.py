"""Turning runs into results: medians per scenario, the targets' MET / NOT MET, the Markdown
tables, the JSON file and the plot. Everything here is pure except `write_plot`."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import MemorySummary
from bench.wrk import WrkResult

SCHEMA = 1
BEGIN_MARK = "<!-- bench:begin -->"
END_MARK = "<!-- bench:end -->"

# Servers, as the tables name them.
GP_SQLITE = "gatepass (SQLite)"
GP_PG = "gatepass (PostgreSQL + Redis)"
PEER = "oidc-provider"


def median(values: Iterable[float]) -> float:
    """The median, 0.0 for no values (a scenario that never ran shows 0, never a made-up
    figure)."""
    items = list(values)
    return float(statistics.median(items)) if items else 0.0


@dataclass
class Scenario:
    """One scenario on one server: every measured run, in order."""

    key: str
    label: str
    server: str
    connections: int
    runs: list[WrkResult] = field(default_factory=list)
    cpu_ms_per_request: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def rps(self) -> float:
        return median(run.rps for run in self.runs)

    @property
    def p50_ms(self) -> float:
        return median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        return median(run.p99_ms for run in self.runs)

    @property
    def cpu_ms(self) -> float:
        return median(self.cpu_ms_per_request)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    @property
    def refused(self) -> int:
        """Password logins refused by the hashing bound (503 + Retry-After): not errors."""
        return sum(run.refused for run in self.runs)

    def error_detail(self) -> str:
        """What the errors were, from the per-status counters (counted scenarios only)."""
        totals: dict[str, int] = {}
        for run in self.runs:
            for name, value in run.counters.items():
                totals[name] = totals.get(name, 0) + value
        parts = []
        if any(run.units is not None for run in self.runs):
            # A flow scenario judged every answer itself: redirects with a code are right.
            if bad := totals.get("bad", 0):
                statuses = ", ".join(
                    f"{label}: {totals[name]:,}"
                    for name, label in (("n4xx", "4xx"), ("n5xx", "5xx"))
                    if totals.get(name)
                )
                parts.append(f"wrong answers: {bad:,}" + (f" ({statuses})" if statuses else ""))
            if starved := totals.get("starved", 0):
                parts.append(f"no PKCE pairs: {starved:,}")
            return "; ".join(parts)
        refused = totals.get("refused", 0)
        if other_503 := totals.get("n503", 0) - refused:
            with_retry = totals.get("n503_retry_after", 0) - refused
            parts.append(f"503: {other_503:,}, {with_retry:,} with Retry-After")
        other_5xx = totals.get("n5xx", 0) - totals.get("n503", 0)
        for label, value in (
            ("other 5xx", other_5xx),
            ("4xx", totals.get("n4xx", 0)),
            ("3xx", totals.get("n3xx", 0)),
            ("wrong 2xx body", totals.get("bad", 0)),
            ("token queue empty", totals.get("starved", 0)),
        ):
            if value:
                parts.append(f"{label}: {value:,}")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "server": self.server,
            "connections": self.connections,
            "median_rps": round(self.rps, 1),
            "median_p50_ms": round(self.p50_ms, 3),
            "median_p99_ms": round(self.p99_ms, 3),
            "median_cpu_ms_per_request": round(self.cpu_ms, 4),
            "errors": self.errors,
            "error_detail": self.error_detail(),
            "refused_logins": self.refused,
            "note": self.note,
            "runs": [run.as_dict() for run in self.runs],
            "cpu_ms_per_request": [round(value, 4) for value in self.cpu_ms_per_request],
        }


@dataclass(frozen=True)
class Flood:
    """The login flood: password logins offered at a fixed rate, verify traffic alongside.
    `raw_rps` is the raw argon2id rate the target was set from."""

    raw_rps: float
    target_rps: float
    offered_rps: float
    seconds: float
    statuses: dict[int, int]
    refused_with_retry_after: int
    ok_p99_ms: float
    refused_p50_ms: float
    refused_p99_ms: float
    client_lag_p99_ms: float
    verify: WrkResult

    @property
    def refused(self) -> int:
        return self.statuses.get(503, 0)

    @property
    def unexpected(self) -> int:
        """Answers that are neither a login (200) nor a refusal (503)."""
        return sum(n for status, n in self.statuses.items() if status not in (200, 503))

    def as_dict(self) -> dict[str, Any]:
        return {
            "raw_rps": round(self.raw_rps, 1),
            "target_rps": round(self.target_rps, 1),
            "offered_rps": round(self.offered_rps, 1),
            "seconds": self.seconds,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "refused_with_retry_after": self.refused_with_retry_after,
            "ok_p99_ms": round(self.ok_p99_ms, 3),
            "refused_p50_ms": round(self.refused_p50_ms, 3),
            "refused_p99_ms": round(self.refused_p99_ms, 3),
            "client_lag_p99_ms": round(self.client_lag_p99_ms, 3),
            "verify": self.verify.as_dict(),
        }


@dataclass(frozen=True)
class Memory:
    summary: MemorySummary | None
    run_seconds: float
    scenario: str


@dataclass(frozen=True)
class StackRow:
    """One short run of the server-choice stage (same stack, different worker counts)."""

    workers: int
    key: str
    rps: float
    p99_ms: float
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "key": self.key,
            "rps": round(self.rps, 1),
            "p99_ms": round(self.p99_ms, 3),
            "errors": self.errors,
        }


def stack_table(rows: Sequence[StackRow]) -> str:
    """Workers × scenario: req/s (p99 ms); errors flagged."""
    keys = list(dict.fromkeys(row.key for row in rows))
    workers = sorted({row.workers for row in rows})
    cells = {(row.workers, row.key): row for row in rows}
    lines = [
        "| workers | " + " | ".join(f"{key} req/s (p99 ms)" for key in keys) + " |",
        "|--:|" + "--:|" * len(keys),
    ]
    for count in workers:
        values = []
        for key in keys:
            row = cells.get((count, key))
            if row is None:
                values.append("—")
                continue
            flag = f" ⚠ {row.errors} errors" if row.errors else ""
            values.append(f"{row.rps:,.0f} ({row.p99_ms:.1f}){flag}")
        lines.append(f"| {count} | " + " | ".join(values) + " |")
    return "\n".join(lines)


@dataclass
class Results:
    scenarios: list[Scenario]
    stack: list[StackRow] = field(default_factory=list)
    argon2_rps: float | None = None
    # The raw rate measured again in each round, just before that round's password logins.
    argon2_round_rps: list[float] = field(default_factory=list)
    argon2_profile: dict[str, int] = field(default_factory=dict)
    flood: Flood | None = None
    memory: Memory | None = None

    def find(self, server: str, key: str) -> Scenario | None:
        for scenario in self.scenarios:
            if scenario.server == server and scenario.key == key:
                return scenario
        return None


MET, NOT_MET, NOT_MEASURED = "MET", "NOT MET", "NOT MEASURED"


@dataclass(frozen=True)
class TargetRow:
    name: str
    measured: str
    target: str
    status: str

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "measured": self.measured,
            "target": self.target,
            "status": self.status,
        }


def _status(ok: bool, *scenarios: Scenario) -> str:
    """MET only when the figure is good *and* every scenario behind it answered correctly."""
    if any(s.errors for s in scenarios):
        return f"{NOT_MET} (errors)"
    return MET if ok else NOT_MET


def _missing(name: str, target: str, why: str = "") -> TargetRow:
    return TargetRow(name, why or "—", target, NOT_MEASURED)


def _ratio_row(
    name: str,
    results: Results,
    mine: tuple[str, str],
    theirs: tuple[str, str],
    need: float,
    target: str,
    unit: str = "req/s",
) -> TargetRow:
    a, b = results.find(*mine), results.find(*theirs)
    if a is None or b is None or not a.runs or not b.runs or b.rps <= 0:
        return _missing(name, target)
    ratio = a.rps / b.rps
    measured = f"{ratio:.2f}× ({_fmt_rps(a.rps)} vs {_fmt_rps(b.rps)} {unit})"
    return TargetRow(name, measured, target, _status(ratio >= need, a, b))


def evaluate(results: Results, mixed_target_s: float = 300) -> list[TargetRow]:
    """Every target of the issue, in its order, against this run's figures."""
    rows: list[TargetRow] = []

    # client_credentials issuing a JWT vs oidc-provider: throughput and p99.
    name = "client_credentials JWT vs oidc-provider"
    target = "≥ 1.5× and p99 no worse"
    mine, peer = results.find(GP_SQLITE, "cc_oauth"), results.find(PEER, "cc")
    if mine and peer and mine.runs and peer.runs and peer.rps > 0:
        ratio = mine.rps / peer.rps
        measured = (
            f"{ratio:.2f}× ({mine.rps:,.0f} vs {peer.rps:,.0f} req/s); "
            f"p99 {mine.p99_ms:.1f} vs {peer.p99_ms:.1f} ms"
        )
        ok = ratio >= 1.5 and mine.p99_ms <= peer.p99_ms
        rows.append(TargetRow(name, measured, target, _status(ok, mine, peer)))
    else:
        rows.append(_missing(name, target))

    rows.append(
        _ratio_row(
            "Introspection vs oidc-provider",
            results,
            (GP_SQLITE, "introspect"),
            (PEER, "introspect"),
            1.5,
            "≥ 1.5× oidc-provider",
        )
    )

    # The authorization code flow (authorize + token, PKCE S256), whole flows per second.
    rows.append(
        _ratio_row(
            "Authorization code flow vs oidc-provider",
            results,
            (GP_SQLITE, "authcode"),
            (PEER, "authcode"),
            1.2,
            "≥ 1.2× oidc-provider",
            "flows/s",
        )
    )

    # Password login vs the raw argon2id rate of the same profile on the same cores: each
    # round's login rate against the raw rate measured just before it, median of the ratios.
    name, target = "Password login vs raw argon2id", "≥ 90 % of raw verify rate"
    login = results.find(GP_SQLITE, "password")
    raws = results.argon2_round_rps
    if login and login.runs and raws and len(raws) == len(login.runs):
        share = median(run.rps / raw for run, raw in zip(login.runs, raws, strict=True) if raw)
        measured = (
            f"{share:.1%} (median of per-round ratios; logins {login.rps:,.1f}/s, raw "
            f"{median(raws):,.1f}/s)"
        )
        rows.append(TargetRow(name, measured, target, _status(share >= 0.9, login)))
    elif login and login.runs and results.argon2_rps:
        share = login.rps / results.argon2_rps
        measured = f"{share:.1%} ({login.rps:,.1f} vs {results.argon2_rps:,.1f}/s)"
        rows.append(TargetRow(name, measured, target, _status(share >= 0.9, login)))
    else:
        rows.append(_missing(name, target))

    rows.extend(_flood_rows(results))

    rows.append(
        _ratio_row(
            "Forward-auth /auth/verify vs hello",
            results,
            (GP_SQLITE, "verify"),
            (GP_SQLITE, "hello"),
            0.5,
            "≥ 0.5× bare hello on the same stack",
        )
    )

    # Issue 19: 2,000/s on SQLite, 1,500/s on PostgreSQL (a network round trip per statement).
    for server, label, need in ((GP_SQLITE, "SQLite", 2000), (GP_PG, "PostgreSQL", 1500)):
        name, target = f"Refresh with rotation ({label})", f"≥ {need:,}/s"
        refresh = results.find(server, "refresh")
        if refresh and refresh.runs:
            rows.append(
                TargetRow(
                    name, f"{refresh.rps:,.0f}/s", target, _status(refresh.rps >= need, refresh)
                )
            )
        else:
            rows.append(_missing(name, target))

    rows.extend(_memory_rows(results, mixed_target_s))
    return rows


def _flood_rows(results: Results) -> list[TargetRow]:
    verify_target = "p99 ≤ 25 ms"
    refuse_target = "503 + Retry-After, p99 ≤ 50 ms, at ≥ 4× raw rate"
    verify_name = "/auth/verify p99 during login flood"
    refuse_name = "Logins beyond the in-flight bound refused fast"
    flood = results.flood
    if flood is None:
        return [_missing(verify_name, verify_target), _missing(refuse_name, refuse_target)]
    verify_ok = flood.verify.p99_ms <= 25 and flood.verify.errors == 0
    verify_status = MET if verify_ok else NOT_MET
    if flood.verify.errors:
        verify_status = f"{NOT_MET} (errors)"
    verify_row = TargetRow(
        verify_name,
        f"{flood.verify.p99_ms:.1f} ms ({flood.verify.rps:,.0f} req/s)",
        verify_target,
        verify_status,
    )
    raw = flood.raw_rps
    fast = (
        flood.refused > 0
        and flood.refused_with_retry_after == flood.refused
        and flood.refused_p99_ms <= 50
        and raw > 0
        and flood.offered_rps >= 4 * raw * 0.95  # the client may lag its schedule a little
        and flood.unexpected == 0
    )
    measured = (
        f"{flood.refused:,} refused ({flood.refused_with_retry_after:,} with Retry-After), "
        f"p99 {flood.refused_p99_ms:.1f} ms; offered {flood.offered_rps:,.0f}/s"
        + (f" = {flood.offered_rps / raw:.1f}× raw" if raw else "")
    )
    if flood.unexpected:
        measured += f"; {flood.unexpected} unexpected statuses"
    refuse_status = MET if fast else NOT_MET
    if flood.unexpected:
        refuse_status = f"{NOT_MET} (errors)"
    return [verify_row, TargetRow(refuse_name, measured, refuse_target, refuse_status)]


def _memory_rows(results: Results, mixed_target_s: float) -> list[TargetRow]:
    rss_name, rss_target = "Steady RSS per worker (mixed run)", "≤ 120 MB"
    growth_name, growth_target = "RSS growth over the mixed run", "≤ 5 MB over ≥ 5 min"
    memory = results.memory
    if memory is None or memory.summary is None:
        return [_missing(rss_name, rss_target), _missing(growth_name, growth_target)]
    summary = memory.summary
    mixed = results.find(GP_SQLITE, memory.scenario)
    errors = (mixed,) if mixed else ()
    rss_row = TargetRow(
        rss_name,
        f"{summary.steady_mb_per_worker:.0f} MB (max {summary.max_mb:.0f} MB)",
        rss_target,
        _status(summary.steady_mb_per_worker <= 120, *errors),
    )
    measured = f"{summary.growth_mb:+.1f} MB over {memory.run_seconds / 60:.1f} min"
    if memory.run_seconds < mixed_target_s:
        growth_row = TargetRow(
            growth_name, measured + " (run too short)", growth_target, NOT_MEASURED
        )
    else:
        growth_row = TargetRow(
            growth_name, measured, growth_target, _status(summary.growth_mb <= 5, *errors)
        )
    return [rss_row, growth_row]


def _fmt_rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def scenario_table(scenarios: Sequence[Scenario]) -> str:
    """The per-scenario Markdown table. A scenario with wrong answers is flagged with ⚠ in its
    name and its error count in bold."""
    lines = [
        "| scenario | server | conns | good req/s (median) | p50 ms | p99 ms | CPU ms/req | errors"
        " | req/s per run |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    for s in scenarios:
        flag = "⚠ " if s.errors else ""
        errors = f"**{s.errors:,}**" if s.errors else "0"
        if s.errors and (detail := s.error_detail()):
            errors += f" ({detail})"
        if s.refused:
            errors += f"; {s.refused:,} logins refused (503 + Retry-After, by design)"
        per_run = ", ".join(_fmt_rps(run.rps) for run in s.runs) or "—"
        cpu = f"{s.cpu_ms:.2f}" if s.cpu_ms_per_request else "—"
        note = f" ({s.note})" if s.note else ""
        lines.append(
            f"| {flag}{s.label}{note} | {s.server} | {s.connections} | {_fmt_rps(s.rps)} | "
            f"{s.p50_ms:.1f} | {s.p99_ms:.1f} | {cpu} | {errors} | {per_run} |"
        )
    return "\n".join(lines)


def targets_table(rows: Sequence[TargetRow]) -> str:
    lines = ["| target | measured | required | result |", "|---|---|---|---|"]
    for row in rows:
        result = f"**{row.status}**" if row.status != MET else row.status
        lines.append(f"| {row.name} | {row.measured} | {row.target} | {result} |")
    return "\n".join(lines)


def extras_table(results: Results) -> str:
    """Raw argon2id rate, the flood's details and memory, as a small key/value table."""
    lines = ["| measurement | value |", "|---|---|"]
    if results.argon2_rps is not None:
        profile = ", ".join(f"{k}={v}" for k, v in results.argon2_profile.items())
        in_rounds = "".join(f", {rate:,.1f}/s" for rate in results.argon2_round_rps)
        if in_rounds:
            in_rounds += " in the rounds"
        lines.append(
            f"| raw argon2id verify rate, all cores ({profile}) | "
            f"{results.argon2_rps:,.1f}/s at the start{in_rounds} |"
        )
    if results.flood is not None:
        f = results.flood
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(f.statuses.items()))
        lines += [
            f"| login flood: target / offered rate | {f.target_rps:,.0f}/s / "
            f"{f.offered_rps:,.0f}/s for {f.seconds:g} s |",
            f"| login flood: statuses | {statuses} |",
            f"| login flood: 200 p99 / 503 p50 / 503 p99 | {f.ok_p99_ms:.1f} / "
            f"{f.refused_p50_ms:.1f} / {f.refused_p99_ms:.1f} ms |",
            f"| login flood: client lag p99 (late sends, client saturation) | "
            f"{f.client_lag_p99_ms:.1f} ms |",
            f"| login flood: concurrent /auth/verify | {f.verify.rps:,.0f} req/s, p50 "
            f"{f.verify.p50_ms:.1f} ms, p99 {f.verify.p99_ms:.1f} ms, {f.verify.errors} errors |",
        ]
    if results.memory is not None and results.memory.summary is not None:
        m = results.memory.summary
        lines.append(
            f"| memory over the {results.memory.run_seconds:g} s mixed run | steady "
            f"{m.steady_mb_per_worker:.1f} MB/worker, growth {m.growth_mb:+.1f} MB, max "
            f"{m.max_mb:.1f} MB, {m.samples} samples |"
        )
    return "\n".join(lines)


def markdown(results: Results, targets: Sequence[TargetRow], header: str) -> str:
    """The whole report: a header line, the targets, the scenarios and the extras."""
    parts = [
        header,
        "### Targets",
        targets_table(targets),
        "### Scenarios",
        scenario_table(results.scenarios),
        "### Other measurements",
        extras_table(results),
    ]
    if results.stack:
        parts += [
            "### Server choice: uvicorn (uvloop + httptools) workers, one short run each",
            stack_table(results.stack),
        ]
    return "\n\n".join(parts) + "\n"


def as_json(results: Results, targets: Sequence[TargetRow], meta: dict[str, Any]) -> dict[str, Any]:
    memory: dict[str, Any] | None = None
    if results.memory is not None:
        summary = results.memory.summary
        memory = {
            "run_seconds": results.memory.run_seconds,
            "scenario": results.memory.scenario,
            "steady_mb_per_worker": None if summary is None else summary.steady_mb_per_worker,
            "growth_mb": None if summary is None else summary.growth_mb,
            "max_mb": None if summary is None else summary.max_mb,
            "samples": None if summary is None else summary.samples,
        }
    return {
        "schema": SCHEMA,
        **meta,
        "argon2": {
            "verify_rps_all_cores": results.argon2_rps,
            "verify_rps_per_round": results.argon2_round_rps,
            "profile": results.argon2_profile,
        },
        "scenarios": [s.as_dict() for s in results.scenarios],
        "flood": None if results.flood is None else results.flood.as_dict(),
        "memory": memory,
        "targets": [row.as_dict() for row in targets],
        "server_choice": [row.as_dict() for row in results.stack],
    }


def replace_between_markers(document: str, content: str) -> str:
    """`document` with the text between the bench markers replaced by `content`."""
    if BEGIN_MARK not in document or END_MARK not in document:
        raise ValueError(f"the document has no {BEGIN_MARK} … {END_MARK} section")
    start = document.index(BEGIN_MARK) + len(BEGIN_MARK)
    end = document.index(END_MARK, start)
    return document[:start] + "\n" + content.strip() + "\n" + document[end:]


def write_plot(scenarios: Sequence[Scenario], path: Path, title: str) -> None:
    """Throughput and p99 per scenario, side by side (horizontal bars, log scale: the
    scenarios span four orders of magnitude, from argon2-bound logins to a bare endpoint)."""
    import matplotlib

    matplotlib.use("Agg")  # no display
    import matplotlib.pyplot as plt

    shown = [s for s in scenarios if s.runs]
    labels = [f"{'⚠ ' if s.errors else ''}{s.label} — {s.server}" for s in shown]
    palette = {GP_SQLITE: "#2b6cb0", GP_PG: "#38a169", PEER: "#dd6b20"}
    colors = [palette.get(s.server, "#718096") for s in shown]
    height = max(4.0, 0.38 * len(shown) + 1.5)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, height), sharey=True)
    positions = list(range(len(shown)))
    left.barh(positions, [s.rps for s in shown], color=colors)
    left.set_xscale("log")
    left.set_xlabel("requests/s (median, log scale)")
    left.set_yticks(positions, labels, fontsize=8)
    left.invert_yaxis()
    right.barh(positions, [s.p99_ms for s in shown], color=colors)
    right.set_xscale("log")
    right.set_xlabel("p99 latency, ms (median of runs, log scale)")
    for axis, values in ((left, [s.rps for s in shown]), (right, [s.p99_ms for s in shown])):
        axis.grid(axis="x", which="both", alpha=0.3)
        for y, value in zip(positions, values, strict=True):
            axis.annotate(
                f"{value:,.0f}" if value >= 10 else f"{value:.1f}",
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
            )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
