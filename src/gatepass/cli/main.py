"""The `gatepass` command: set-up, serving, and administration of a local deployment."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer

from gatepass.cli import backup, issuers, manage, ops, remote, resources, tokens
from gatepass.cli.common import (
    JSON_OPTION,
    actor,
    emit_json,
    fail,
    out,
    read_secret_stdin,
    run,
    settings,
    state,
)
from gatepass.config import Settings
from gatepass.core.errors import NotFound
from gatepass.core.policies import ADMIN_SCOPE
from gatepass.observability.logs import logging_config
from gatepass.runtime import Runtime, SetupError, open_runtime

app = typer.Typer(
    name="gatepass",
    help="gatepass: a self-hosted login and token service for HTTP APIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
manage.register(app)
tokens.register(app)
issuers.register(app, manage.user_app)
resources.register(app)
ops.register(app)
backup.register(app)
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

    async def job(runtime: Runtime) -> dict[str, object]:
        result: dict[str, object] = {
            "home": str(runtime.settings.home),
            "database": _safe_url(runtime.settings.resolved_database_url),
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


async def _ensure_admin(runtime: Runtime, name: str, password: str) -> bool:
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


def _safe_url(url: str) -> str:
    """A database URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        rest = f"{user}:***@{rest.split('@', 1)[1]}"
    return scheme + sep + rest


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe while other processes serve)."""
    run(_noop, initialize=True)
    out.print("database schema is up to date")


async def _noop(runtime: Runtime) -> None:
    return None


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
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    config = settings()

    async def check() -> None:
        runtime = await open_runtime(config)
        await runtime.close()

    try:
        asyncio.run(check())
    except SetupError as exc:
        fail(str(exc))
    _prepare_metrics_dir(config, workers)
    sys.stdout.write(f"gatepass listening on http://{host}:{port}\n")
    sys.stdout.flush()
    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        server_header=False,
        access_log=False,
        proxy_headers=False,
        log_config=logging_config(config.log_format, config.log_level, config.log_requests),
        log_level=config.log_level,
        timeout_graceful_shutdown=10,
    )


def _prepare_metrics_dir(config: Settings, workers: int) -> None:
    """Multi-process metrics: with several workers, every worker must write its samples to
    one shared directory (PROMETHEUS_MULTIPROC_DIR, else `metrics_dir`, else <home>/metrics),
    emptied at start so that counters begin at zero like a single process's do."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or config.metrics_dir
    if workers <= 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # one process, already counting in memory
    directory = Path(configured or config.home / "metrics")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
