"""`python -m bench.protocols`: which way of bounding connections costs the token path least
(issue 22; the figures are in docs/performance.md, "Bounded connections").

Each variant serves the benchmark app (`bench.app`) on 2 workers, on its own SQLite home:

    stock     uvicorn + httptools exactly as `gatepass serve` ran before issue 22: no head limit
    bounded   `gatepass serve` itself: uvicorn + gatepass's BoundedHttpToolsProtocol
    h11       uvicorn's pure-Python h11 parser with h11_max_incomplete_event_size (a size limit
              only: uvicorn's h11 protocol has no header timeout either)
    granian   granian with --http1-buffer-size and --http1-header-read-timeout, if installed
              (it is not a dependency: `pip install granian` to include it)

Then rounds: in each round every variant is loaded with wrk (2 threads, 32 connections) on
client_credentials at `POST /oauth/token` and on `GET /auth/verify`, back to back (in reverse
order every other round), so that the machine's drift hits every variant alike. The table shows
medians over the rounds, of the throughput and of the CPU time the server's process tree spent
per request (the fairer figure on a shared machine: a server with more threads gets a larger
share of busy cores).

    python -m bench.protocols [--rounds 5] [--seconds 4] [--variants stock,bounded,h11]
    python -m bench.protocols serve VARIANT PORT     (used by the above: one uvicorn variant)

On a machine shared with other work the wrk figures move by tens of percent between runs, far
more than the protocol's own cost; so `parse` also measures that cost alone, in one process:
a token request (head of ~300 bytes, a form body) handed to uvicorn's protocol and to
gatepass's, through to an ASGI app that answers at once, alternating in trials; the CPU time
per request, best of the trials.

    python -m bench.protocols parse [--requests 20000] [--trials 7]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import provision, scenarios, wrk
from bench.procs import Server, free_port, start, stop

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
APP = "bench.app:app_from_env"
KEYS = ("cc_oauth", "verify")
VARIANTS = ("stock", "bounded", "h11", "granian")


def _say(message: str) -> None:
    sys.stderr.write(f"[protocols {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def serve(variant: str, port: int) -> None:
    """Run one uvicorn variant in this process (the bench starts it as a subprocess)."""
    import uvicorn

    from gatepass.config import load_settings
    from gatepass.http.server import serve_options

    config = load_settings()
    options = serve_options(config)
    if variant == "stock":
        options.update(http="httptools", limit_concurrency=None)
    elif variant == "h11":
        options.update(http="h11", h11_max_incomplete_event_size=config.max_header_bytes)
    else:
        raise SystemExit(f"unknown uvicorn variant {variant}")
    uvicorn.run(APP, factory=True, host="127.0.0.1", port=port, workers=WORKERS, **options)


def _argv(variant: str, port: int, gatepass: Path) -> list[str]:
    if variant == "bounded":
        serve_argv = ["serve", "--port", str(port), "--workers", str(WORKERS)]
        return [str(gatepass), *serve_argv, "--app-factory", APP]
    if variant == "granian":
        return [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--loop",
            "uvloop",
            "--no-ws",
            "--http",
            "1",
            "--http1-buffer-size",
            str(64 * 1024),
            "--http1-header-read-timeout",
            "20000",
            "--log-level",
            "warning",
            APP,
        ]
    return [sys.executable, "-m", "bench.protocols", "serve", variant, str(port)]


def _start(variant: str, tmp: Path) -> tuple[Server, list[scenarios.Spec]]:
    gatepass = Path(sys.executable).parent / "gatepass"
    port = free_port()
    home = tmp / variant
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_HOME=str(home),
        GATEPASS_ISSUER=f"http://127.0.0.1:{port}",
        GATEPASS_LOG_REQUESTS="false",
        GATEPASS_DIALECTS="datarhei",  # scenarios.gatepass_specs checks every request once
        PYTHONPATH=str(ROOT),
    )
    principals = provision.provision(gatepass, env)
    if variant != "bounded":  # `gatepass serve` prepares the shared metrics directory itself
        metrics = home / "metrics"
        metrics.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    server = start(variant, _argv(variant, port, gatepass), env, tmp / f"{variant}.log", port, ROOT)
    try:
        return server, _ready_specs(server, principals, variant, tmp)
    except BaseException:
        stop(server)  # not yet in the caller's list of servers to stop
        raise


def _ready_specs(
    server: Server, principals: provision.Principals, variant: str, tmp: Path
) -> list[scenarios.Spec]:
    deadline = time.monotonic() + 30
    while True:  # every worker up: readyz answers 200 repeatedly
        try:
            for _ in range(8):
                provision.check(server.url, "GET", "/readyz")
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    return scenarios.gatepass_specs(
        server.url, principals, variant, set(KEYS), lambda n: tmp / "unused"
    )


def measure(variants: list[str], rounds: int, seconds: float) -> dict[str, dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="gatepass-protocols-"))
    started: list[tuple[str, Server, list[scenarios.Spec]]] = []
    runs: dict[str, dict[str, list[tuple[wrk.WrkResult, float]]]] = {}
    try:
        for variant in variants:
            server, specs = _start(variant, tmp)
            started.append((variant, server, specs))
            _say(f"{variant} listening on {server.url}")
        for number in range(rounds + 1):  # round 0 warms every variant up, unrecorded
            # Every other round in reverse order: going first or last must not favour anyone.
            for variant, server, specs in started if number % 2 else started[::-1]:
                for spec in specs:
                    load = wrk.Load(threads=2, connections=spec.connections, seconds=seconds)
                    cpu = server.cpu_seconds()
                    result, _ = wrk.run(server.url + spec.path, spec.script, load, tmp, spec.env())
                    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(1, result.requests)
                    if number:
                        runs.setdefault(variant, {}).setdefault(spec.key, []).append(
                            (result, cpu_ms)
                        )
                        _say(
                            f"round {number} {variant:<8} {spec.key:<9} "
                            f"{result.rps:>9,.0f} req/s p99 {result.p99_ms:6.1f} ms "
                            f"cpu {cpu_ms:.3f} ms/req errors {result.errors}"
                        )
    finally:
        for _, server, _ in reversed(started):
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        variant: {
            key: {
                "rps": statistics.median(r.rps for r, _ in results),
                "p99_ms": statistics.median(r.p99_ms for r, _ in results),
                "cpu_ms": statistics.median(cpu for _, cpu in results),
                "errors": sum(r.errors for r, _ in results),
                "runs": [round(r.rps) for r, _ in results],
            }
            for key, results in by_key.items()
        }
        for variant, by_key in runs.items()
    }


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| variant | /oauth/token cc: req/s (p99 ms) [CPU ms/req] "
        "| /auth/verify: req/s (p99 ms) [CPU ms/req] | errors |",
        "|---|--:|--:|--:|",
    ]
    for variant, by_key in results.items():
        cells = [
            f"{by_key[k]['rps']:,.0f} ({by_key[k]['p99_ms']:.1f}) [{by_key[k]['cpu_ms']:.3f}]"
            for k in KEYS
        ]
        errors = sum(by_key[k]["errors"] for k in KEYS)
        lines.append(f"| {variant} | {cells[0]} | {cells[1]} | {errors} |")
    return "\n".join(lines)


TOKEN_REQUEST = (
    b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n"
    b"Authorization: Basic Z3BfY2lfMTIzNDU2Nzg5MDpzZWNyZXRzZWNyZXRzZWNyZXRzZWNyZXQ=\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 46\r\n\r\n"
    b"grant_type=client_credentials&scope=api%3Aread"
)


class _Sink(asyncio.Transport):
    """A transport that keeps nothing: the protocol's own cost is what is timed."""

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(name)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _parse_trial(factory: Any, requests: int) -> float:
    protocol = factory()
    protocol.connection_made(_Sink())
    began = time.process_time()  # CPU time: other tenants' load does not count
    for _ in range(requests):
        protocol.data_received(TOKEN_REQUEST)
        # The request's task runs to its end before the next request is handed over.
        await asyncio.wait(list(protocol.tasks))
    return (time.process_time() - began) / requests * 1e6


def parse(requests: int, trials: int) -> dict[str, float]:
    """Microseconds per request through each protocol, best of `trials` alternating trials."""
    import functools

    import uvicorn
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    from gatepass.http.server import BoundedHttpToolsProtocol, HeaderLimits

    config = uvicorn.Config(_answer, log_config=None, proxy_headers=False, access_log=False)
    config.load()
    state = ServerState()
    common: dict[str, Any] = {"config": config, "server_state": state, "app_state": {}}
    factories: dict[str, Any] = {
        "stock": functools.partial(HttpToolsProtocol, **common),
        "bounded": functools.partial(
            BoundedHttpToolsProtocol, limits=HeaderLimits(64 * 1024, 20.0), **common
        ),
    }
    best = {name: float("inf") for name in factories}
    for _ in range(trials):
        for name, factory in factories.items():
            best[name] = min(best[name], uvloop.run(_parse_trial(factory, requests)))
    return best


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        serve(args[1], int(args[2]))
        return 0
    if args[:1] == ["parse"]:
        knobs = argparse.ArgumentParser(prog="python -m bench.protocols parse")
        knobs.add_argument("--requests", type=int, default=20_000)
        knobs.add_argument("--trials", type=int, default=7)
        chosen = knobs.parse_args(args[1:])
        for name, micros in parse(chosen.requests, chosen.trials).items():
            print(f"{name:<8} {micros:6.2f} µs per request (parse, dispatch, answer)")
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.protocols")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    options = parser.parse_args(args)
    variants = [v for v in options.variants.split(",") if v]
    if "granian" in variants and importlib.util.find_spec("granian") is None:
        _say("granian is not installed: measuring without it")
        variants.remove("granian")
    with contextlib.suppress(KeyboardInterrupt):
        results = measure(variants, options.rounds, options.seconds)
        for variant, by_key in results.items():
            _say(f"{variant}: " + ", ".join(f"{k} {v['runs']}" for k, v in by_key.items()))
        print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
