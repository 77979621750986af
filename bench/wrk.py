"""Running wrk and reading what it prints.

Every scenario script is `lua/common.lua` followed by the scenario's own file; common.lua's
`done()` prints one `BENCH_JSON {...}` line with the totals, latency percentiles and the
per-status counters the scenario kept. The human-readable part of wrk's output is parsed too,
as a cross-check and for runs without our Lua (see `parse_output`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LUA_DIR = Path(__file__).resolve().parent / "lua"
_JSON_LINE = re.compile(r"^BENCH_JSON (\{.*\})\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    """wrk failed to run or printed nothing we can read."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run. Latencies in milliseconds."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    p90_ms: float | None = None
    max_ms: float | None = None
    # Wrong answers: non-2xx statuses, socket errors/timeouts, and 2xx answers whose body the
    # scenario's check rejected (introspection `active:false`, a refresh answer without token).
    errors: int = 0
    # Password logins refused by the hashing bound (503 + Retry-After): by design under
    # overload, so not errors, but not right answers either.
    refused: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    # Scenarios whose unit is not one request (the authorization code flow: authorize +
    # token): the right units the script counted. Throughput is then units/s; `requests` and
    # the latencies stay per HTTP request.
    units: int | None = None

    @property
    def all_rps(self) -> float:
        """Every answer per second, right or wrong."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def rps(self) -> float:
        """Right answers (or right units) per second: the throughput the tables and targets
        use, so that fast refusals can never pass for throughput."""
        good = (
            self.units
            if self.units is not None
            else max(0, self.requests - self.errors - self.refused)
        )
        return good / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "rps": round(self.rps, 1),
            "all_rps": round(self.all_rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": None if self.p90_ms is None else round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": None if self.max_ms is None else round(self.max_ms, 3),
            "errors": self.errors,
            "refused": self.refused,
            "counters": dict(self.counters),
            "units": self.units,
        }


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse_output(text: str) -> WrkResult:
    """A wrk run's result, from our `BENCH_JSON` line, or from wrk's own summary (`--latency`)."""
    match = _JSON_LINE.search(text)
    if match:
        return _from_json(json.loads(match.group(1)))
    return _from_text(text)


def _from_json(data: dict[str, Any]) -> WrkResult:
    socket = data["errors"]
    socket_errors = socket["connect"] + socket["read"] + socket["write"] + socket["timeout"]
    requests = int(data["requests"])
    counters = {
        name: int(data.get(name, 0))
        for name in (
            "n2xx",
            "n3xx",
            "n4xx",
            "n5xx",
            "n503",
            "n503_retry_after",
            "bad",
            "starved",
            "refused",
            "flows",
        )
    }
    refused = 0
    units = None
    if data.get("units"):
        # Every answer was judged by the script: a wrong one is `bad` (or `starved`), and the
        # right units are counted apart (an authorize 303 is right, yet no unit by itself).
        units = counters["flows"]
        wrong = counters["bad"] + counters["starved"]
    elif data.get("counted"):
        # The scenario saw every response: anything not 2xx and not a designed refusal, and
        # any rejected 2xx body.
        refused = counters["refused"]
        wrong = (requests - counters["n2xx"] - refused) + counters["bad"] + counters["starved"]
    else:
        # Only wrk's own count (statuses >= 400) is known.
        wrong = int(socket["status"])
    latency = data["latency_us"]
    return WrkResult(
        requests=requests,
        duration_s=int(data["duration_us"]) / 1e6,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=wrong + socket_errors,
        refused=refused,
        counters=counters,
        units=units,
    )


def _from_text(text: str) -> WrkResult:
    total = _TOTAL.search(text)
    if not total:
        raise WrkError("no request total in wrk's output")
    percentiles = {int(p): _ms(v, u) for p, v, u in _PERCENTILE.findall(text)}
    if 50 not in percentiles or 99 not in percentiles:
        raise WrkError("no latency distribution in wrk's output (run it with --latency)")
    errors = 0
    if non_2xx := _NON_2XX.search(text):
        errors += int(non_2xx.group(1))
    if socket := _SOCKET.search(text):
        errors += sum(int(n) for n in socket.groups())
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2), total.group(3)) / 1000,
        p50_ms=percentiles[50],
        p90_ms=percentiles.get(90),
        p99_ms=percentiles[99],
        errors=errors,
    )


def script_text(name: str) -> str:
    """The Lua wrk runs for scenario script `name` (common.lua + lua/<name>.lua)."""
    return (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / f"{name}.lua").read_text()


@dataclass(frozen=True)
class Load:
    """How hard and how long wrk pushes."""

    threads: int = 2
    connections: int = 32
    seconds: float = 5.0
    timeout_s: float = 5.0


def run(
    url: str,
    script: str,
    load: Load,
    workdir: Path,
    env: dict[str, str] | None = None,
) -> tuple[WrkResult, str]:
    """Run wrk once against `url` with scenario script `script`; returns the result and the raw
    output (kept in the JSON file's debug section)."""
    path = workdir / f"{script}.lua"
    if not path.exists():
        path.write_text(script_text(script))
    full_env = {**os.environ, **(env or {}), "BENCH_THREADS": str(load.threads)}
    full_env["BENCH_SCRIPT"] = script
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.seconds))}s",
        f"--timeout={load.timeout_s:g}s",
        "--latency",
        "-s",
        str(path),
        url,
    ]
    try:
        done = subprocess.run(  # noqa: S603  (fixed argv, no shell)
            command,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=load.seconds + 60,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {' '.join(command)}") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}: {done.stderr.strip()[:500]}")
    return parse_output(done.stdout), done.stdout
