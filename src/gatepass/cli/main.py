"""The `gatepass` command: set-up, serving, and administration of a local deployment."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from gatepass.adapters.sql.migrate import current_revision
from gatepass.app.container import Container, open_container
from gatepass.cli import (
    apikeys,
    audit,
    backup,
    clients,
    consents,
    invitations,
    issuers,
    keys,
    login,
    mfa,
    ops,
    orgs,
    remote,
    resources,
    sessions,
    tokens,
    users,
)
from gatepass.cli.common import (
    JSON_OPTION,
    JsonAwareGroup,
    actor,
    emit_json,
    fail,
    one_line_errors,
    out,
    read_secret_stdin,
    report,
    run,
    settings,
    state,
)
from gatepass.config import Settings, safe_url
from gatepass.core.errors import NotFound
from gatepass.core.scopes import ADMIN_SCOPE

app = typer.Typer(
    cls=JsonAwareGroup,
    name="gatepass",
    help="gatepass: a self-hosted login and token service for HTTP APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# The order of the commands in `gatepass --help`.
orgs.register(app)
users.register(app)
clients.register(app)
apikeys.register(app)
orgs.register_roles(app)
keys.register(app)
sessions.register(app)
audit.register(app)
consents.register(app)
tokens.register(app)
issuers.register(app, users.user_app)
mfa.register(orgs.org_app, users.user_app)
invitations.register(users.user_app)
resources.register(app)
ops.register(app)
backup.register(app)
login.register(app)
remote.register(app)

ADMIN_ROLE = "admin"


@app.callback()
def main_options(
    config: Annotated[Path | None, typer.Option("--config", help="A gatepass.toml file.")] = None,
) -> None:
    state.config = config
    if config is not None:
        # Workers started by `serve` read their settings from the environment.
        os.environ["GATEPASS_CONFIG"] = str(config)


@app.command()
def init(
    admin: Annotated[str | None, typer.Option(help="Create this first admin user.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the admin password from stdin.")
    ] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create the data directory, master key, database schema and first signing key."""
    password = read_secret_stdin("password") if password_stdin else None

    async def job(runtime: Container) -> dict[str, object]:
        result: dict[str, object] = {
            "home": str(runtime.settings.home),
            "database": safe_url(runtime.settings.resolved_database_url),
            "signing_key": runtime.keys.ring.active.kid,
            "admin": None,
            "password": None,
        }
        if admin:
            generated = None if password else secrets.token_urlsafe(18)
            created = await _ensure_admin(runtime, admin, password or generated or "")
            result["admin"] = admin
            result["password"] = generated if created else None
            result["admin_created"] = created
        return result

    result = run(job, initialize=True)
    if as_json:
        emit_json(result)
        return
    out.print(f"gatepass initialised in {result['home']} ({result['database']})")
    if result["admin"]:
        if result.get("admin_created"):
            out.print(f"admin user: {result['admin']}")
            if result["password"]:
                out.print(f"admin password (shown once): {result['password']}")
        else:
            out.print(f"admin user {result['admin']} already exists; password unchanged")


async def _ensure_admin(runtime: Container, name: str, password: str) -> bool:
    admin_service = runtime.admin
    if ADMIN_ROLE not in {role.name for role in await admin_service.list_roles()}:
        await admin_service.put_role(
            ADMIN_ROLE, [ADMIN_SCOPE], "gatepass administrators", actor=actor()
        )
    try:
        await admin_service.get_user(name)
        return False
    except NotFound:
        pass
    await admin_service.add_user(name, password=password, roles=[ADMIN_ROLE], actor=actor())
    return True


@app.command()
def migrate(as_json: bool = JSON_OPTION) -> None:
    """Bring the database schema up to date (safe while other processes serve)."""

    async def job(runtime: Container) -> dict[str, object]:
        return {
            "database": safe_url(runtime.settings.resolved_database_url),
            "revision": await current_revision(runtime.storage.engine),
        }

    result = run(job, initialize=True)
    report(as_json, result, "database schema is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    app_factory: Annotated[
        str,
        typer.Option(
            hidden=True,
            help="module:function building the ASGI app (the benchmark adds a bare endpoint).",
        ),
    ] = "gatepass.http.app:app_from_env",
    as_json: bool = JSON_OPTION,
) -> None:
    """Serve the HTTP API. With --json, one line describing what is served comes first."""
    import uvicorn  # imported here: every other command starts faster without the server

    from gatepass.http.server import huge_pages_available, malloc_tunables, serve_options

    config = settings()

    async def check() -> None:
        runtime = await open_container(config)
        await runtime.close()

    # Checked here, before any worker starts: a worker that cannot open the runtime would
    # only log a traceback, once per worker.
    with one_line_errors():
        asyncio.run(check())
    _prepare_metrics_dir(config, workers)
    url = f"http://{host}:{port}"
    if as_json:
        served = {
            "url": url,
            "host": host,
            "port": port,
            "workers": workers,
            "pid": os.getpid(),
            "database": safe_url(config.resolved_database_url),
            "issuer": config.issuer,
        }
        sys.stdout.write(json.dumps(served, sort_keys=True) + "\n")
    else:
        sys.stdout.write(f"gatepass listening on {url}\n")
    sys.stdout.flush()
    if workers > 1:
        _spawn_workers_without_the_cli()
    if workers > 1 and config.return_hash_memory:
        # The workers' allocator returns argon2's working memory after each hash
        # (gatepass/http/server.py, MALLOC_TUNABLES); the variable is read at their start.
        tunables = malloc_tunables(os.environ, huge_pages_available())
        if tunables is not None:
            os.environ["GLIBC_TUNABLES"] = tunables
    uvicorn.run(
        app_factory, factory=True, host=host, port=port, workers=workers, **serve_options(config)
    )


def _spawn_workers_without_the_cli() -> None:
    """uvicorn starts its workers with multiprocessing's "spawn", which runs the parent's main
    module again in each child (as `__mp_main__`): here this CLI, i.e. Typer, Rich, Pygments
    and every command module, about 15 MB of RSS per worker that no request ever uses (measured
    with `python -m bench.memory`; docs/performance.md, "Memory per worker"). Nothing a worker
    runs is defined in the main module (uvicorn pickles its own server and config, and the
    protocol class lives in gatepass.http.server), so the main module is hidden from the
    spawn: without `__spec__` (`python -m`) and `__file__` (the `gatepass` script),
    multiprocessing imports nothing for it. serve() never returns to other work, so
    the change lasts, as it must: uvicorn spawns a replacement worker when one dies."""
    main_module = sys.modules.get("__main__")
    if main_module is None:
        return
    main_module.__spec__ = None
    if hasattr(main_module, "__file__"):
        del main_module.__file__


def _prepare_metrics_dir(config: Settings, workers: int) -> None:
    """Multi-process metrics: with several workers, every worker must write its samples to
    one shared directory (PROMETHEUS_MULTIPROC_DIR, else `metrics_dir`, else <home>/metrics),
    emptied at start so that counters begin at zero like a single process's do."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or config.metrics_dir
    if workers <= 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # one process, already counting in memory
    directory = Path(configured or config.home / "metrics")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for stale in directory.glob("*.db"):
            stale.unlink()
    except OSError as exc:
        fail(f"cannot use {directory} for the workers' metrics: {exc.strerror} — fix metrics_dir")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
