"""`bench/run`: start gatepass and oidc-provider, load them with wrk, write the results.

    bench/run              the full suite (~11 min): writes bench/results/latest.{json,md,png}
    bench/run --quick      ~3 min, shorter runs and a 1-minute mixed run
    bench/run --smoke      seconds: checks the plumbing, the figures mean nothing
    bench/run --publish    also rewrite docs/performance.md's table and docs/img/bench.png

Order of a run: the raw argon2id rate (servers idle), then every scenario warmed up once,
then the measured runs in rounds — each round runs every scenario once, so gatepass and its
peer are measured back to back and a noisy minute hurts both alike; medians over the rounds.
Then the login flood, the long mixed run with memory sampling, and last the PostgreSQL +
Redis stage on its own server.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from bench import argon2_rate, authcode, provision, report, scenarios, wrk
from bench.flood import flood, percentile
from bench.procs import Server, free_port, reachable, sample_rss, start, stop, summarise_rss
from bench.report import GP_PG, GP_SQLITE, PEER

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PEER_DIR = ROOT / "bench" / "peers" / "oidc-provider"
DOCS_PAGE = ROOT / "docs" / "performance.md"
DOCS_PLOT = ROOT / "docs" / "img" / "bench.png"
STACK_RUN_S = 2  # the server-choice stage's runs: a comparison, not the headline figures
WORKERS = 2  # = cores on the benchmark machine; see docs/performance.md, "Choices"
PG_DSN = os.environ.get("GATEPASS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GATEPASS_BENCH_REDIS", "redis://127.0.0.1:6379/0")
# The peer's web app of the authorization code flow (gatepass's is registered with its CLI).
PEER_APP = ("bench-app", secrets.token_urlsafe(32))


@dataclass(frozen=True)
class Mode:
    name: str
    warmup_s: float
    run_s: float
    runs: int
    flood_s: float
    argon2_s: float
    mixed_s: float
    mixed_warmup_s: float
    rss_interval_s: float


MODES = {
    "full": Mode("full", 2, 4, 3, 8, 4, 300, 30, 10),
    "quick": Mode("quick", 1, 3, 2, 5, 2, 60, 10, 5),
    "smoke": Mode("smoke", 0, 1, 1, 2, 1, 6, 1, 1),
}


def _say(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    sys.stderr.write(f"[bench {stamp}] {message}\n")
    sys.stderr.flush()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])

    def version(*argv: str) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
        except OSError:
            return "missing"
        return (
            (done.stdout or done.stderr).strip().splitlines()[0]
            if done.returncode in (0, 1)
            else "?"
        )

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": version("node", "--version"),
        "wrk": version("wrk", "--version").split(" [")[0],
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def _git_commit() -> str:
    done = subprocess.run(  # noqa: S603  (fixed argv)
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(  # noqa: S603  (fixed argv)
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() + ("+uncommitted src changes" if dirty.stdout.strip() else "")


class Bench:
    """One benchmark run: owns the temporary directory and every server it starts."""

    def __init__(self, mode: Mode, args: argparse.Namespace) -> None:
        self.mode = mode
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="gatepass-bench-"))
        self.servers: list[Server] = []
        self.scenarios: dict[tuple[str, str], report.Scenario] = {}
        self.raw_outputs: list[str] = []
        self.gatepass = Path(sys.executable).parent / "gatepass"
        self.notes: list[str] = []
        self.profile: argon2_rate.Profile | None = None
        self.argon2_rounds: list[float] = []

    # -- servers -------------------------------------------------------------------------

    def _gatepass_env(self, home: Path, port: int, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
        env.update(
            GATEPASS_HOME=str(home),
            GATEPASS_ISSUER=f"http://127.0.0.1:{port}",
            # The dialect of the dialect password-login scenario (datarhei: JSON
            # username/password at POST /api/login, the simplest of the five).
            GATEPASS_DIALECTS="datarhei",
            # Request logging off, as the peer logs nothing either (docs/performance.md).
            GATEPASS_LOG_REQUESTS="false",
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    def start_gatepass(
        self, name: str, env: dict[str, str], port: int, workers: int = WORKERS
    ) -> tuple[Server, provision.Principals]:
        principals = provision.provision(self.gatepass, env)
        argv = [
            str(self.gatepass),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--app-factory",
            "bench.app:app_from_env",
        ]
        server = start(name, argv, env, self.tmp / f"{name}.log", port, ROOT)
        self.servers.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # both workers up: readyz answers 200 repeatedly
            with contextlib.suppress(RuntimeError):
                for _ in range(8):
                    provision.check(server.url, "GET", "/readyz")
                return server, principals
            time.sleep(0.3)
        raise RuntimeError(f"{name} never became ready; see {server.log}")

    def start_peer(self) -> tuple[Server, str, str] | None:
        if shutil.which("node") is None or not (PEER_DIR / "node_modules").is_dir():
            self.notes.append(
                "oidc-provider not run: node or bench/peers/oidc-provider/node_modules missing"
            )
            return None
        port = free_port()
        client_id, secret = "bench", secrets.token_urlsafe(32)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
        env.update(
            NODE_ENV="production",
            PORT=str(port),
            WORKERS=str(WORKERS),
            CLIENT_ID=client_id,
            CLIENT_SECRET=secret,
            APP_CLIENT_ID=PEER_APP[0],
            APP_CLIENT_SECRET=PEER_APP[1],
            APP_REDIRECT_URI=authcode.REDIRECT_URI,
        )
        if reachable("127.0.0.1", 6379):
            env.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=f"oidc-bench-{secrets.token_hex(4)}")
            self.peer_redis_prefix: str | None = env["REDIS_PREFIX"]
        else:
            self.peer_redis_prefix = None
            self.notes.append(
                "Redis not reachable: oidc-provider introspection will fail across workers"
            )
        server = start(
            "oidc-provider", ["node", "server.js"], env, self.tmp / "peer.log", port, PEER_DIR
        )
        self.servers.append(server)
        provision.check(server.url, "GET", "/.well-known/openid-configuration")
        return server, client_id, secret

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            stop(server)
        self.servers.clear()

    # -- scenarios -----------------------------------------------------------------------

    def _load(self, spec: scenarios.Spec, seconds: float) -> wrk.Load:
        return wrk.Load(threads=2, connections=spec.connections, seconds=seconds)

    def measure(self, spec: scenarios.Spec, server: Server, seconds: float, record: bool) -> None:
        env = spec.env()
        before = server.cpu_seconds()
        result, output = wrk.run(
            server.url + spec.path, spec.script, self._load(spec, seconds), self.tmp, env
        )
        cpu = server.cpu_seconds() - before
        time.sleep(spec.settle_s)
        if not record:
            return
        self.raw_outputs.append(f"## {spec.server} / {spec.key}\n{output}")
        scenario = self.scenarios.setdefault(
            (spec.server, spec.key),
            report.Scenario(spec.key, spec.label, spec.server, spec.connections),
        )
        scenario.runs.append(result)
        # Per request, or per unit where the unit is not one request (a code flow: per flow).
        count = result.units if result.units is not None else result.requests
        if count:
            scenario.cpu_ms_per_request.append(cpu * 1000 / count)
        flag = f", {result.errors} ERRORS" if result.errors else ""
        if result.refused:
            flag += f", {result.refused} logins refused"
        unit = "flows/s" if result.units is not None else "req/s"
        _say(
            f"  {spec.server:<30} {spec.key:<17} {result.rps:>9,.1f} {unit}  "
            f"p99 {result.p99_ms:7.1f} ms{flag}"
        )

    def rounds(self, specs: list[tuple[scenarios.Spec, Server]]) -> None:
        if self.mode.warmup_s:
            _say("warm-up")
            for spec, server in specs:
                self.measure(spec, server, self.mode.warmup_s, record=False)
        for index in range(self.mode.runs):
            _say(f"round {index + 1}/{self.mode.runs}")
            for spec, server in specs:
                if spec.key == "password" and spec.server == GP_SQLITE and self.profile:
                    # The raw rate again, right before the password logins it is compared
                    # with: the machine's speed drifts by tens of percent over minutes.
                    raw = argon2_rate.raw_rate(self.profile, self.mode.argon2_s)
                    self.argon2_rounds.append(raw)
                    _say(f"  raw argon2id                                     {raw:>9,.1f} /s")
                self.measure(spec, server, self.mode.run_s, record=True)

    def tokens_file(self, url: str, principals: provision.Principals, count: int) -> Path:
        tokens = provision.refresh_tokens(url, principals, count)
        path = self.tmp / f"tokens-{secrets.token_hex(4)}.txt"
        path.write_text("\n".join(tokens) + "\n")
        return path

    def pkce_file(self) -> Path:
        """Fresh PKCE pairs for one wrk run of the authorization code flow."""
        return authcode.pkce_file(self.tmp / f"pkce-{secrets.token_hex(4)}.txt")

    def authcode_specs(
        self,
        gp: Server,
        env: dict[str, str],
        principals: provision.Principals,
        peer: Server | None,
    ) -> list[tuple[scenarios.Spec, Server]]:
        """The authorization code flow on gatepass and on the peer, each signed in once and
        checked with one whole flow before any load."""
        app = authcode.gatepass_ready(gp.url, self.gatepass, env, principals)
        specs = [(authcode.spec(GP_SQLITE, app, self.pkce_file), gp)]
        if peer is not None:
            if self.peer_redis_prefix is None:
                self.notes.append(
                    "authorization code flow not run on oidc-provider: it needs Redis (shared "
                    "sessions, grants and codes across its workers)"
                )
            else:
                peer_app = authcode.peer_ready(peer.url, *PEER_APP)
                specs.append((authcode.spec(PEER, peer_app, self.pkce_file), peer))
        return specs

    def gatepass_specs(
        self, server: Server, principals: provision.Principals, label: str, keys: set[str]
    ) -> list[scenarios.Spec]:
        return scenarios.gatepass_specs(
            server.url,
            principals,
            label,
            keys,
            lambda count: self.tokens_file(server.url, principals, count),
        )

    # -- special scenarios -----------------------------------------------------------------

    def login_flood(
        self, server: Server, principals: provision.Principals, raw: float
    ) -> report.Flood:
        # 4× the highest raw rate measured in this run: the raw rate drifts by ±10 % between
        # rounds, and the flood must be at least 4× whichever figure one compares it with.
        rate = 4 * raw
        access = provision.access_token(server.url, principals)
        holder: dict[str, wrk.WrkResult] = {}

        def verify_load() -> None:
            holder["verify"], _ = wrk.run(
                server.url + "/auth/verify",
                "static",
                wrk.Load(threads=1, connections=8, seconds=self.mode.flood_s),
                self.tmp,
                {"BENCH_AUTH": f"Bearer {access}", "BENCH_EXPECT": ""},
            )

        thread = threading.Thread(target=verify_load, name="flood-verify")
        thread.start()
        log = flood("127.0.0.1", server.port, principals.login_body, rate, self.mode.flood_s)
        thread.join()
        result = report.Flood(
            raw_rps=raw,
            target_rps=rate,
            offered_rps=log.started / log.seconds if log.seconds else 0.0,
            seconds=self.mode.flood_s,
            statuses=log.statuses,
            refused_with_retry_after=log.refused_with_retry_after,
            ok_p99_ms=percentile(log.ok_ms, 99),
            refused_p50_ms=percentile(log.refused_ms, 50),
            refused_p99_ms=percentile(log.refused_ms, 99),
            client_lag_p99_ms=percentile(log.lag_ms, 99),
            verify=holder["verify"],
        )
        _say(
            f"  flood: offered {result.offered_rps:,.0f}/s, statuses {log.statuses}, "
            f"verify p99 {result.verify.p99_ms:.1f} ms"
        )
        return result

    def mixed(self, server: Server, principals: provision.Principals) -> report.Memory:
        access = provision.access_token(server.url, principals)
        tokens = self.tokens_file(server.url, principals, 2 * 32)
        spec = scenarios.Spec(
            "mixed",
            "mixed 80/15/4/1 (verify/refresh/cc/login)",
            GP_SQLITE,
            "/",
            "mixed",
            env=lambda: {
                "BENCH_DATA": str(tokens),
                "BENCH_ACCESS": access,
                "BENCH_BASIC": principals.basic,
                "BENCH_LOGIN": principals.login_body,
            },
        )
        _say(
            f"mixed run, {self.mode.mixed_s:g} s, sampling RSS every {self.mode.rss_interval_s:g} s"
        )
        with sample_rss(server, self.mode.rss_interval_s) as samples:
            self.measure(spec, server, self.mode.mixed_s, record=True)
        summary = summarise_rss(samples.samples, self.mode.mixed_warmup_s, 60)
        self.rss_samples = samples.samples
        return report.Memory(summary, self.mode.mixed_s, "mixed")

    # -- the whole run ---------------------------------------------------------------------

    def run(self) -> tuple[report.Results, dict[str, Any]]:
        started = time.time()
        meta: dict[str, Any] = {
            "mode": self.mode.name,
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "git": _git_commit(),
            "workers": WORKERS,
            "server_stack": "uvicorn (uvloop + httptools), gatepass serve",
            "wrk": {"threads": 2, "timeout_s": 5},
            "mode_settings": self.mode.__dict__,
        }
        results = report.Results(scenarios=[])
        if self.args.choose_workers or (self.mode.name == "full" and not self.args.no_workers):
            self.workers_stage(results)
        sqlite_port = free_port()
        sqlite_env = self._gatepass_env(self.tmp / "sqlite", sqlite_port)
        profile = self.profile = argon2_rate.configured_profile(sqlite_env)
        results.argon2_profile = profile.as_dict()
        _say(f"raw argon2id verify rate, {os.cpu_count()} processes, {self.mode.argon2_s:g} s")
        results.argon2_rps = argon2_rate.raw_rate(profile, self.mode.argon2_s)
        _say(f"  {results.argon2_rps:,.1f} verifications/s")

        _say("starting gatepass (SQLite) and oidc-provider")
        gp, principals = self.start_gatepass("gatepass-sqlite", sqlite_env, sqlite_port)
        peer = None if self.args.no_peer else self.start_peer()
        keys = {
            "hello",
            "verify",
            "jwks",
            "cc_native",
            "cc_oauth",
            "introspect",
            "refresh",
            "password",
            "password_dialect",
        }
        specs = [(spec, gp) for spec in self.gatepass_specs(gp, principals, GP_SQLITE, keys)]
        flows = self.authcode_specs(gp, sqlite_env, principals, peer[0] if peer else None)
        after: dict[str, list[tuple[scenarios.Spec, Server]]] = {"introspect": flows}
        if peer is not None:
            peer_server, client_id, secret = peer
            cc, introspect = scenarios.peer_specs(peer_server.url, client_id, secret)
            # Each peer scenario right after its gatepass counterpart; the flows after both
            # introspections.
            after["cc_oauth"] = [(cc, peer_server)]
            after["introspect"] = [(introspect, peer_server), *flows]
        specs = [item for pair in specs for item in [pair, *after.get(pair[0].key, [])]]
        self.rounds(specs)

        results.argon2_round_rps = list(self.argon2_rounds)
        raw = max([results.argon2_rps, *self.argon2_rounds])
        _say(
            f"login flood at 4× the highest raw argon2id rate ({raw:,.1f}/s) "
            f"for {self.mode.flood_s:g} s"
        )
        results.flood = self.login_flood(gp, principals, raw)
        if not self.args.no_mixed:
            results.memory = self.mixed(gp, principals)
        self.stop_all()

        if self.args.no_pg:
            self.notes.append("PostgreSQL + Redis stage skipped (--no-pg)")
        elif reachable("127.0.0.1", 5432) and reachable("127.0.0.1", 6379):
            self.postgres_stage()
        else:
            self.notes.append("PostgreSQL + Redis stage skipped: servers not reachable")

        # gatepass (SQLite) and oidc-provider side by side, scenario by scenario; PostgreSQL last.
        order = [
            "hello", "verify", "jwks", "cc_native", "cc_oauth", "cc", "introspect", "authcode",
            "refresh",
            "password", "password_dialect", "mixed",
        ]  # fmt: skip
        results.scenarios = sorted(
            self.scenarios.values(),
            key=lambda s: (
                s.server == GP_PG,
                order.index(s.key) if s.key in order else len(order),
                s.server == PEER,
            ),
        )
        meta["duration_s"] = round(time.time() - started, 1)
        meta["notes"] = self.notes
        return results, meta

    def workers_stage(self, results: report.Results) -> None:
        """The measurement behind WORKERS: the same stack with 1, 2 and 4 workers, one short
        run each of the bare endpoint, verify and client_credentials (a fresh SQLite home
        per server)."""
        _say("server choice: 1, 2 and 4 uvicorn workers")
        for workers in (1, 2, 4):
            port = free_port()
            home = self.tmp / f"workers-{workers}"
            env = self._gatepass_env(home, port)
            server, principals = self.start_gatepass(f"gatepass-w{workers}", env, port, workers)
            try:
                specs = self.gatepass_specs(
                    server, principals, f"{workers} workers", {"hello", "verify", "cc_oauth"}
                )
                for spec in specs:
                    self.measure(spec, server, 1, record=False)
                    result, _ = wrk.run(
                        server.url + spec.path,
                        spec.script,
                        self._load(spec, min(self.mode.run_s, STACK_RUN_S)),
                        self.tmp,
                        spec.env(),
                    )
                    results.stack.append(
                        report.StackRow(workers, spec.key, result.rps, result.p99_ms, result.errors)
                    )
                    _say(
                        f"  {workers} workers {spec.key:<9} {result.rps:>9,.1f} req/s  "
                        f"p99 {result.p99_ms:.1f} ms"
                    )
            finally:
                stop(server)
                self.servers.remove(server)

    def postgres_stage(self) -> None:
        schema = f"gatepass_bench_{secrets.token_hex(4)}"
        prefix = f"gatepass_bench_{secrets.token_hex(4)}"
        _say(f"PostgreSQL + Redis stage (schema {schema}, Redis prefix {prefix})")
        provision.create_schema(PG_DSN, schema)
        try:
            port = free_port()
            env = self._gatepass_env(
                self.tmp / "pg",
                port,
                GATEPASS_DATABASE_URL="postgresql+asyncpg://" + PG_DSN.split("://", 1)[1],
                GATEPASS_DATABASE_SCHEMA=schema,
                GATEPASS_REDIS_URL=REDIS_URL,
                GATEPASS_REDIS_KEY_PREFIX=prefix,
            )
            (self.tmp / "pg").mkdir(exist_ok=True)
            server, principals = self.start_gatepass("gatepass-pg", env, port)
            keys = {"verify", "cc_oauth", "refresh"}
            specs = self.gatepass_specs(server, principals, GP_PG, keys)
            self.rounds([(spec, server) for spec in specs])
            stop(server)
            self.servers.remove(server)
        finally:
            provision.drop_schema(PG_DSN, schema)
            provision.drop_redis_prefix(REDIS_URL, prefix)

    def cleanup(self) -> None:
        self.stop_all()
        prefix = getattr(self, "peer_redis_prefix", None)
        if prefix:
            with contextlib.suppress(Exception):
                provision.drop_redis_prefix(REDIS_URL, prefix)
        if self.args.keep_tmp:
            _say(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def write_outputs(
    results: report.Results, meta: dict[str, Any], bench: Bench, publish: bool
) -> str:
    targets = report.evaluate(results, mixed_target_s=300)
    m = meta["machine"]
    header = (
        f"Run of {meta['started']} ({meta['mode']} mode, {meta['duration_s'] / 60:.1f} min, git "
        f"{meta['git']}) on {m['nproc']} × {m['cpu_model']}, {m['ram_gib']} GiB RAM, Linux "
        f"{m['kernel']}, Python {m['python']}, node {m['node']}, {m['wrk']}; load average "
        f"before: {' '.join(m['loadavg_before'])}. {WORKERS} workers per server."
    )
    if meta["notes"]:
        header += "\n\n" + "\n".join(f"- {note}" for note in meta["notes"])
    text = report.markdown(results, targets, header)
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = report.as_json(results, targets, meta)
    data["rss_samples"] = [
        {"t": round(t, 1), "rss_kb": {str(pid): kb for pid, kb in row.items()}}
        for t, row in getattr(bench, "rss_samples", [])
    ]
    (RESULTS / "latest.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "wrk-output.txt").write_text("\n".join(bench.raw_outputs))
    plot = RESULTS / "latest.png"
    try:
        report.write_plot(
            results.scenarios, plot, f"gatepass benchmark, {meta['started']} ({meta['mode']})"
        )
    except ImportError:
        _say("matplotlib missing: no plot (bench/run installs it)")
    if publish:
        if meta["mode"] != "full":
            _say(f"publishing a {meta['mode']} run (its figures are less reliable)")
        page = DOCS_PAGE.read_text()
        DOCS_PAGE.write_text(report.replace_between_markers(page, text))
        if plot.exists():
            DOCS_PLOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(plot, DOCS_PLOT)
    print_tables(results, targets)
    return text


def print_tables(results: report.Results, targets: list[report.TargetRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(170, shutil.get_terminal_size().columns))
    table = Table(title="Scenarios (medians)")
    for column in (
        "scenario",
        "server",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "CPU ms/req",
        "errors",
    ):
        table.add_column(column, justify="left" if column in ("scenario", "server") else "right")
    for s in results.scenarios:
        style = "bold red" if s.errors else None
        table.add_row(
            ("⚠ " if s.errors else "") + s.label,
            s.server,
            str(s.connections),
            f"{s.rps:,.1f}",
            f"{s.p50_ms:.1f}",
            f"{s.p99_ms:.1f}",
            f"{s.cpu_ms:.2f}",
            str(s.errors) + (f" + {s.refused:,} refused" if s.refused else ""),
            style=style,
        )
    console.print(table)
    summary = Table(title="Targets")
    for column in ("target", "measured", "required", "result"):
        summary.add_column(column)
    for row in targets:
        colour = (
            "green"
            if row.status == report.MET
            else "red"
            if row.status.startswith("NOT MET")
            else "yellow"
        )
        summary.add_row(row.name, row.measured, row.target, f"[{colour}]{row.status}[/]")
    console.print(summary)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="~3 minutes, 1-minute mixed run")
    speed.add_argument("--smoke", action="store_true", help="seconds; checks the plumbing only")
    parser.add_argument(
        "--publish", action="store_true", help="rewrite docs/performance.md and docs/img/bench.png"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip oidc-provider")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL + Redis stage")
    parser.add_argument(
        "--choose-workers", action="store_true", help="measure 1/2/4 workers (full runs do)"
    )
    parser.add_argument("--no-workers", action="store_true", help="skip the 1/2/4 workers stage")
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed/memory run")
    parser.add_argument(
        "--keep-tmp", action="store_true", help="keep the temporary directory (logs)"
    )
    args = parser.parse_args(argv)
    mode = MODES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if shutil.which("wrk") is None:
        _say("wrk is missing: run bench/run (it installs it) or apt-get install wrk")
        return 2
    bench = Bench(mode, args)
    with _signals():
        try:
            results, meta = bench.run()
        except KeyboardInterrupt:
            _say("interrupted: stopping servers")
            return 130
        finally:
            bench.cleanup()
    write_outputs(results, meta, bench, args.publish)
    _say(f"done in {meta['duration_s'] / 60:.1f} min; results in {RESULTS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
