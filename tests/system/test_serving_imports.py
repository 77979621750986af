"""What a server worker imports: nothing that only the CLI, a page or a rare ceremony needs.

Every module a worker imports costs RSS in every worker for its whole life (docs/performance.md,
"Memory per worker"; measured by `python -m bench.memory`, not here). These tests fail when a
change brings one of the heavy, rarely used packages back into the serving path, and check the
mechanisms that keep them out: workers spawned without re-running the CLI, and the malloc
settings `gatepass serve` hands its workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gatepass.http.server import MALLOC_TUNABLES, huge_pages_available, malloc_tunables
from tests.system.server import Server, gatepass, gatepass_env

# Top-level packages (and gatepass's CLI) that a worker must not import while it starts,
# opens its runtime and serves API requests; each is imported where it is used.
DENYLIST = {
    "typer": "the CLI",
    "rich": "the CLI (and httpx's CLI)",
    "pygments": "the CLI (and httpx's CLI)",
    "shellingham": "the CLI",
    "gatepass.cli": "the CLI",
    "alembic": "migrations (the `migrate` command)",
    "mako": "migrations",
    "jinja2": "pages: imported with the first page rendered",
    "webauthn": "passkey ceremonies",
    "cbor2": "passkey ceremonies",
    "pyasn1": "passkey ceremonies",
    "OpenSSL": "passkey ceremonies",
    "segno": "TOTP enrolment's QR code",
    "httpx": "fetching an external issuer's JWKS, the Pwned Passwords API",
    "aiosmtplib": "sending mail",
    "zxcvbn": "setting a password",
}

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys

    # What uvicorn's spawned worker imports before the app: its own server and protocol, and
    # the pickled config, whose protocol class is gatepass's.
    import uvicorn.server, uvicorn.lifespan.on, uvicorn.protocols.http.httptools_impl
    import gatepass.http.server
    from gatepass.http.app import app_from_env

    app = app_from_env()

    async def serve_one_request():
        async with app.router.lifespan_context(app):
            messages = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                messages.append(message)

            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": "/auth/verify", "raw_path": b"",
                "query_string": b"", "root_path": "", "headers": [],
                "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080),
            }
            await app(scope, receive, send)
            return messages[0]["status"]

    status = asyncio.run(serve_one_request())
    print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
    """
)


def _denied(modules: list[str]) -> dict[str, str]:
    found = {}
    for name in modules:
        for denied, reason in DENYLIST.items():
            if name == denied or name.startswith(denied + "."):
                found[denied] = reason
    return found


def test_a_worker_imports_nothing_on_the_denylist(tmp_path: Path) -> None:
    env = gatepass_env(tmp_path / "home")
    assert gatepass("init", env=env).returncode == 0
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.splitlines()[-1])
    assert answer["status"] == 401  # the app really served a request (no token: refused)
    assert "gatepass.http.app" in answer["modules"]
    assert _denied(answer["modules"]) == {}


def test_the_denylist_check_sees_a_denied_import() -> None:
    assert _denied(["gatepass.http.app", "jinja2.environment", "typer"]) == {
        "jinja2": DENYLIST["jinja2"],
        "typer": DENYLIST["typer"],
    }
    assert _denied(["gatepass.client", "httpxyz"]) == {}


PROBE = textwrap.dedent(
    """
    import json, multiprocessing.spawn, sys
    import gatepass.cli.main as cli

    before = sorted(multiprocessing.spawn.get_preparation_data("worker"))
    cli._spawn_workers_without_the_cli()
    after = sorted(multiprocessing.spawn.get_preparation_data("worker"))
    print(json.dumps({"before": before, "after": after}))
    """
)


@pytest.mark.parametrize("how", ["script", "module"])
def test_spawned_workers_do_not_run_the_cli_again(tmp_path: Path, how: str) -> None:
    """multiprocessing's spawn runs the parent's main module in each child (by path for the
    `gatepass` script, by name for `python -m`) unless it is hidden from it."""
    (tmp_path / "probe.py").write_text(PROBE)
    argv = [str(tmp_path / "probe.py")] if how == "script" else ["-m", "probe"]
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.splitlines()[-1])
    main_key = "init_main_from_path" if how == "script" else "init_main_from_name"
    assert main_key in answer["before"]
    assert not {"init_main_from_path", "init_main_from_name"} & set(answer["after"])


def test_malloc_tunables_for_the_workers(tmp_path: Path) -> None:
    ours = ":".join(f"{name}={value}" for name, value in MALLOC_TUNABLES.items())
    assert malloc_tunables({}, huge_pages=True) == ours
    # The operator's tunables are kept, and theirs win for a name they set.
    assert malloc_tunables({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, True) == (
        "glibc.malloc.arena_max=2:" + ours
    )
    mine = "glibc.malloc.mmap_threshold=65536"
    assert malloc_tunables({"GLIBC_TUNABLES": mine}, True) == mine + ":glibc.malloc.hugetlb=1"
    assert malloc_tunables({"GLIBC_TUNABLES": mine + ":glibc.malloc.hugetlb=0"}, True) is None
    # Without transparent huge pages, faulting the hash memory in costs more CPU than keeping
    # it: nothing changes.
    assert malloc_tunables({}, huge_pages=False) is None
    setting = tmp_path / "enabled"
    for text, available in [
        ("always [madvise] never\n", True),
        ("[always] madvise never\n", True),
        ("always madvise [never]\n", False),
    ]:
        setting.write_text(text)
        assert huge_pages_available(setting) is available
    assert huge_pages_available(tmp_path / "missing") is False


def _worker_tunables(server: Server) -> set[str | None]:
    """GLIBC_TUNABLES as each uvicorn worker of `server` started with it (None: not set)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    found: set[str | None] = set()
    for pid in children.read_text().split():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        prefix = b"GLIBC_TUNABLES="
        values = [item[len(prefix) :].decode() for item in environ if item.startswith(prefix)]
        found.add(values[0] if values else None)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not huge_pages_available(), reason="the kernel has no transparent huge pages")
def test_workers_return_hash_memory_only_when_asked(tmp_path: Path) -> None:
    """Off by default (it costs about a tenth of the login rate, docs/decisions.md); on with
    `return_hash_memory`, every worker starts with the tunables."""
    threshold = f"glibc.malloc.mmap_threshold={MALLOC_TUNABLES['glibc.malloc.mmap_threshold']}"
    for asked in (None, "true"):
        home = tmp_path / f"home-{asked}"
        env = gatepass_env(home)
        env.pop("GLIBC_TUNABLES", None)
        if asked is not None:
            env["GATEPASS_RETURN_HASH_MEMORY"] = asked
        assert gatepass("init", "--admin", "admin", "--json", env=env).returncode == 0
        with Server(env, workers=2) as server:
            seen = _worker_tunables(server)
        # glibc rewrites the variable in a process's own environment as it reads it, so the
        # workers show the tunables it kept (the threshold, which is what frees the memory).
        if asked is None:
            assert seen == {None}
        else:
            assert len(seen) == 1
            assert threshold in str(seen.pop()).split(":")
