"""What a gatepass worker holds in memory: `python -m bench.memory` (not part of `bench/run`).

Serves gatepass as `bench/run` does (`gatepass serve --workers 2`, SQLite, the bench app) and
reports, per worker:

- RSS right after startup (idle, before any request but the readiness checks);
- RSS after a warm-up that calls every kind of endpoint the mixed run and an operator use
  (verify, client_credentials, password login, refresh, introspection, JWKS, discovery, the
  OpenAPI document, a console page), several times so that both workers see each;
- RSS after a short load (`--load-s`, password logins included, to exercise the hash pool);
- the third-party packages each worker imported, and the count of modules, so that an
  import creeping into the serving path shows up next to its cost.

    python -m bench.memory [--workers 2] [--load-s 10] [--json FILE] [--keep-tmp]

The figures are VmRSS from /proc (kB), read by the benchmark process, like the mixed run's
samples. The workers answer one extra route, `GET /bench/memory` (this module's factory
adds it), with their pid, RSS and module list; nothing else differs from `bench/run`'s app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench import app as bench_app
from bench.procs import free_port, rss_kb, start, stop

# The workers import this module for its factory: what only the measuring side uses (httpx,
# the provisioning) is imported in the functions that use it, so that it does not count in
# the workers' RSS.
if TYPE_CHECKING:
    import httpx

    from bench import provision

ROOT = Path(__file__).resolve().parent.parent
MEMORY_PATH = "/bench/memory"


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def memory(request: Request) -> Response:
    modules = sorted(name for name in sys.modules if name)
    return JSONResponse({"pid": os.getpid(), "rss_kb": _rss_kb(), "modules": modules})


def app_from_env() -> Starlette:
    """`gatepass serve --app-factory bench.memory:app_from_env`: the bench app + one route."""
    app = bench_app.app_from_env()
    app.router.routes.insert(0, Route(MEMORY_PATH, memory, methods=["GET"]))
    return app


def _top_level(modules: list[str]) -> list[str]:
    stdlib = set(sys.stdlib_module_names)
    tops = {name.split(".")[0] for name in modules}
    return sorted(t for t in tops if t not in stdlib and not t.startswith("_"))


async def _per_worker(client: httpx.AsyncClient, workers: int) -> dict[int, dict[str, Any]]:
    """Ask /bench/memory until every worker answered (new connections spread the requests)."""
    import httpx

    seen: dict[int, dict[str, Any]] = {}
    for _ in range(200):
        async with httpx.AsyncClient(base_url=str(client.base_url), timeout=30) as fresh:
            answer = (await fresh.get(MEMORY_PATH)).json()
        seen.setdefault(answer["pid"], answer)
        if len(seen) >= workers:
            break
    return seen


async def _warm_up(url: str, principals: provision.Principals, rounds: int) -> None:
    """Every kind of request, `rounds` times each, on new connections (to reach each worker)."""
    import httpx

    from bench import provision

    for _ in range(rounds):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            login = await client.post(
                "/auth/login",
                json={"username": principals.username, "password": principals.password},
            )
            login.raise_for_status()
            tokens = login.json()
            bearer = {"authorization": f"Bearer {tokens['access_token']}"}
            (await client.get("/auth/verify", headers=bearer)).raise_for_status()
            refresh = await client.post(
                "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            refresh.raise_for_status()
            basic = {"authorization": f"Basic {principals.basic}"}
            cc = await client.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": provision.SCOPE},
                headers=basic,
            )
            cc.raise_for_status()
            (
                await client.post(
                    "/oauth/introspect", data={"token": tokens["access_token"]}, headers=basic
                )
            ).raise_for_status()
            (
                await client.post(
                    "/api/login",
                    json={"username": principals.username, "password": principals.password},
                )
            ).raise_for_status()
            for path in ("/.well-known/jwks.json", "/.well-known/openid-configuration"):
                (await client.get(path)).raise_for_status()
            (await client.get("/openapi.json")).raise_for_status()
            (await client.get("/console/login")).raise_for_status()


async def _load(url: str, principals: provision.Principals, seconds: float) -> int:
    """A mixed load from 16 connections: mostly verify, refresh with rotation, client_credentials,
    some password logins."""
    import httpx

    from bench import provision

    deadline = time.monotonic() + seconds
    done = 0
    access = provision.access_token(url, principals)
    refresh_tokens = await provision._password_logins(url, principals, 16)

    async def one(index: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            bearer = {"authorization": f"Bearer {access}"}
            basic = {"authorization": f"Basic {principals.basic}"}
            refresh = refresh_tokens[index]
            n = 0
            while time.monotonic() < deadline:
                n += 1
                if n % 50 == index % 50:  # may be refused (503) when the hash pool is full
                    await client.post(
                        "/auth/login",
                        json={"username": principals.username, "password": principals.password},
                    )
                elif n % 7 == 0:  # refresh with rotation, ~15 % as in the mixed run
                    answer = await client.post("/auth/refresh", json={"refresh_token": refresh})
                    if answer.status_code == 200:
                        refresh = answer.json()["refresh_token"]
                elif n % 5 == 0:
                    await client.post(
                        "/oauth/token",
                        data={"grant_type": "client_credentials", "scope": provision.SCOPE},
                        headers=basic,
                    )
                else:
                    await client.get("/auth/verify", headers=bearer)
                done += 1

    await asyncio.gather(*(one(i) for i in range(16)))
    return done


def _mb(kb: int | None) -> float:
    return round((kb or 0) / 1024, 1)


def _pids_rss(pids: list[int]) -> dict[int, float]:
    return {pid: _mb(rss_kb(pid)) for pid in pids}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--load-s", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    parser.add_argument("--keep-tmp", action="store_true")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args(argv)
    import httpx

    from bench import provision

    tmp = Path(tempfile.mkdtemp(prefix="gatepass-memory-"))
    gatepass = Path(sys.executable).parent / "gatepass"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_HOME=str(tmp / "home"),
        GATEPASS_ISSUER=f"http://127.0.0.1:{port}",
        GATEPASS_DIALECTS="datarhei",
        GATEPASS_LOG_REQUESTS="false",
        PYTHONPATH=str(ROOT),
    )
    env.update(item.split("=", 1) for item in args.env)
    report: dict[str, Any] = {"workers": args.workers, "env": args.env}
    server = None
    try:
        principals = provision.provision(gatepass, env)
        argv_ = [
            str(gatepass),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--app-factory",
            "bench.memory:app_from_env",
        ]
        server = start("gatepass", argv_, env, tmp / "server.log", port, ROOT)
        url = server.url

        async def stages() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                idle = await _per_worker(client, args.workers)
                pids = sorted(idle)
                report["idle_mb"] = {pid: _mb(info["rss_kb"]) for pid, info in idle.items()}
                report["modules"] = {pid: len(info["modules"]) for pid, info in idle.items()}
                report["packages"] = _top_level(next(iter(idle.values()))["modules"])
                await _warm_up(url, principals, rounds=2 * args.workers)
                await asyncio.sleep(1)
                report["warm_mb"] = _pids_rss(pids)
                warm = await _per_worker(client, args.workers)
                report["packages_after_warm_up"] = _top_level(
                    sorted({m for info in warm.values() for m in info["modules"]})
                )
                report["requests_in_load"] = await _load(url, principals, args.load_s)
                await asyncio.sleep(1)
                report["loaded_mb"] = _pids_rss(pids)

        asyncio.run(stages())
    finally:
        if server is not None:
            stop(server)
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    for stage in ("idle_mb", "warm_mb", "loaded_mb"):
        values = list(report[stage].values())
        report[stage.replace("_mb", "_mean_mb")] = round(sum(values) / len(values), 1)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
