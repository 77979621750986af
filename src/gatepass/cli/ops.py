"""Operations commands: `config show`, `doctor`, `purge`."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import typer
from rich.table import Table

from gatepass.app.container import Container
from gatepass.cli.common import (
    JSON_OPTION,
    emit_json,
    err,
    one_line_errors,
    out,
    run,
    settings,
    state,
)
from gatepass.cli.doctor import FAIL, Check, diagnose
from gatepass.config import Settings, safe_url, value_sources

config_app = typer.Typer(help="The effective configuration.", no_args_is_help=True)

SECRET_SETTINGS = frozenset({"master_key", "hs256_secret", "metrics_token"})
URL_SETTINGS = frozenset({"database_url", "redis_url"})
MASK = "***"
_STATUS_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
    app.command("doctor")(doctor)
    app.command("purge")(purge)


def effective_settings(config: Settings) -> dict[str, Any]:
    """Every setting as JSON-friendly values, secrets masked; the dialects in the file's shape
    (`{"enabled": [...], "datarhei": {"failure_delay": 0, ...}, ...}`)."""
    data = config.model_dump(mode="json")
    for name in SECRET_SETTINGS:
        if data.get(name):
            data[name] = MASK
    for name in URL_SETTINGS:
        if data.get(name):
            data[name] = safe_url(data[name])
    return _whole_seconds(data)


def _whole_seconds(data: dict[str, Any]) -> dict[str, Any]:
    """Durations in whole seconds: 900, not 900.0 (in the dialects' tables too)."""
    for name, value in data.items():
        if isinstance(value, float) and value.is_integer():
            data[name] = int(value)
        elif isinstance(value, dict):
            _whole_seconds(value)
    return data


def _rows(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """One row per setting, a dialect's fields as `dialects.datarhei.failure_delay`."""
    rows: list[tuple[str, Any]] = []
    for name, value in data.items():
        if name == "dialects":
            rows.append(("dialects", value["enabled"]))
            for dialect, block in value.items():
                if dialect != "enabled":
                    rows.extend((f"dialects.{dialect}.{key}", item) for key, item in block.items())
        else:
            rows.append((name, value))
    return rows


@config_app.command("show")
def config_show(as_json: bool = JSON_OPTION) -> None:
    """Print the effective configuration (defaults, file and GATEPASS_* variables), with
    secrets masked."""
    config = settings()
    data = effective_settings(config)
    if as_json:
        emit_json(data)
        return
    sources = value_sources(state.config, os.environ)
    grid = Table(title="Effective configuration", title_justify="left")
    for column in ("setting", "value", "source"):
        grid.add_column(column, overflow="fold")
    for name, value in _rows(data):
        shown = "-" if value is None else value if isinstance(value, str) else _compact(value)
        grid.add_row(name, shown, sources.get(name, "default"))
    out.print(grid)


def _compact(value: object) -> str:
    import json

    return json.dumps(value, separators=(", ", ": "))


def doctor(as_json: bool = JSON_OPTION) -> None:
    """Check a deployment: database reachable and migrated, master key and signing keys,
    Redis, clock, dialect routes. Exit status 1 when any check fails."""
    config = settings()
    # An unreachable Redis is reported in the table; its log warning would only repeat it.
    logging.getLogger("gatepass.redis").setLevel(logging.ERROR)
    with one_line_errors():
        checks = asyncio.run(diagnose(config))
    _report(checks, as_json)
    failed = [check for check in checks if check.status == FAIL]
    if failed and not as_json:
        # The table is on stdout; stderr gets the first problem, as every command's error.
        more = f" ({len(failed) - 1} more failed checks above)" if len(failed) > 1 else ""
        err.print(f"error: {failed[0].detail}{more}", markup=False)
    if failed:
        raise typer.Exit(1)


def _report(checks: list[Check], as_json: bool) -> None:
    if as_json:
        emit_json([check.as_dict() for check in checks])
        return
    grid = Table(title="gatepass doctor", title_justify="left")
    for column in ("check", "status", "detail"):
        grid.add_column(column, overflow="fold")
    for check in checks:
        style = _STATUS_STYLE.get(check.status, "")
        grid.add_row(check.name, f"[{style}]{check.status}[/]", check.detail)
    out.print(grid)


def purge(as_json: bool = JSON_OPTION) -> None:
    """Delete expired sessions, denylist entries and known addresses now (and old audit
    events when audit_retention is set), in bounded batches."""

    async def job(runtime: Container) -> dict[str, int | bool]:
        return (await runtime.purge()).as_dict()

    report = run(job)
    if as_json:
        emit_json(report)
        return
    out.print(
        f"purged {report['sessions']} sessions, {report['denylist']} denylist entries, "
        f"{report['known_addresses']} known addresses, {report['audit']} audit events"
    )
    if not report["complete"]:
        out.print("purge_max_rows reached: more expired rows are left; run `gatepass purge` again")
