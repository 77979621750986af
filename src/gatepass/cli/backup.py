"""`gatepass export` and `gatepass import`: move a deployment between databases (for example
from SQLite to PostgreSQL) with one command pair; see adapters/sql/backup.py for what moves."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from gatepass.adapters.sql.backup import (
    BackupError,
    check_document,
    check_master_key,
    existing_rows,
    export_document,
    import_document,
)
from gatepass.adapters.sql.migrate import migrate
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.app.container import SetupError, make_home, read_master_key
from gatepass.cli.common import JSON_OPTION, actor, emit_json, err, fail, one_line_errors, settings
from gatepass.config import Settings
from gatepass.core.audit import audit_event
from gatepass.core.keys import MasterKeyError

STDIO = "-"


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)


@contextlib.contextmanager
def _progress(shown: bool = True) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """One bar per table on stderr (stdout may be carrying the export itself); none for
    scripts (`--json`)."""
    columns = (TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=False, disable=not shown) as bars:

        def start(table: str, total: int) -> Callable[[int], None]:
            task = bars.add_task(table, total=total)
            return lambda count: bars.advance(task, count)

        yield start


async def _open(config: Settings) -> SqlStorage:
    # A database that cannot be opened raises DatabaseUnusable: one line, by _run.
    return await open_storage(
        config.resolved_database_url,
        buffered_audit=False,
        schema=config.database_schema,
        pool_size=2,
    )


def export(
    path: Annotated[str, typer.Argument(help="File to write, or - for standard output.")] = STDIO,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Export orgs, roles, users (with password hashes), clients, API keys, signing keys
    (still encrypted) and trusted issuers as one JSON document. Keep it as secret as the
    database; the master key is not in it. With --json and a FILE, stdout gets
    {"path", "counts"}; to stdout, the export is the JSON document."""
    config = settings()
    if config.database_url is None and not (config.home / "gatepass.db").exists():
        fail(f"no database in {config.home}: nothing to export")
    target = None if path == STDIO else Path(path)
    if target is not None and target.exists() and not force:
        fail(f"{target} exists: choose another file or pass --force")

    async def job() -> dict[str, Any]:
        storage = await _open(config)
        try:
            with _progress(not as_json) as progress:
                return await export_document(storage.engine, progress)
        finally:
            await storage.close()

    document = _run(job)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if target is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_private(target, data, force)
    if as_json:
        if target is not None:
            emit_json({"path": str(target), "counts": document["counts"]})
        return
    counts = ", ".join(f"{count} {name}" for name, count in document["counts"].items())
    err.print(f"exported {counts}" + (f" to {target}" if target else ""))


def _write_private(path: Path, data: bytes, force: bool) -> None:
    """Password hashes and secret digests inside: readable by the owner only."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def import_(
    path: Annotated[str, typer.Argument(help="An export file, or - for standard input.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Delete the target's orgs, roles, users, clients, keys, issuers and sessions "
            "first (otherwise only an empty database is accepted).",
        ),
    ] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import an export into the configured database (created and migrated if needed). The
    master key must be the one the export was made with."""
    config = settings()
    try:
        raw = sys.stdin.buffer.read() if path == STDIO else Path(path).read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    try:
        document = check_document(orjson.loads(raw))
    except orjson.JSONDecodeError:
        fail(f"{path} is not JSON")
    except BackupError as exc:
        fail(str(exc))
    try:
        master = read_master_key(config, create=False)
    except (SetupError, MasterKeyError) as exc:
        fail(f"import needs the master key the export was made with: {exc}")

    async def job() -> dict[str, int]:
        check_master_key(document, master)
        if config.database_url is None:
            make_home(config.home)
        storage = await _open(config)
        try:
            await migrate(storage.engine)
            present = await existing_rows(storage.engine)
            if present and not replace:
                found = ", ".join(f"{count} {name}" for name, count in present.items())
                raise BackupError(
                    f"the target database is not empty ({found}): import into a new database, "
                    "or pass --replace to delete what is there first"
                )
            with _progress(not as_json) as progress:
                counts = await import_document(
                    storage.engine, document, replace=replace, progress=progress
                )
            await storage.audit.record(
                audit_event(
                    time.time(),
                    "admin.import",
                    "success",
                    actor=actor(),
                    surface="cli",
                    details={"counts": counts, "replace": replace},
                )
            )
            return counts
        finally:
            await storage.close()

    counts = _run(job)
    if as_json:
        emit_json(counts)
        return
    err.print("imported " + ", ".join(f"{count} {name}" for name, count in counts.items()))


def _run(job: Callable[[], Any]) -> Any:
    with one_line_errors():
        return asyncio.run(job())
