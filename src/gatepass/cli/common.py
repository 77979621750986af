"""What every CLI command shares: settings, the runtime, output as Rich tables or JSON, and
errors as one clear line (exit status 1), never a traceback.

With `--json` a command prints exactly one JSON document on stdout, and so does a failure:
`{"error": "…"}` (plus `"problems"` for an invalid configuration), with the same exit status
and nothing on stderr, so that a script can always parse what it gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer._click.core import Context  # typer vendors click (pinned in pyproject.toml)
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from gatepass.adapters.sql.backup import BackupError
from gatepass.adapters.sql.engine import DatabaseUnusable
from gatepass.app.container import Container, SetupError, open_container
from gatepass.config import ConfigError, Settings, load_settings
from gatepass.core.errors import GatepassError
from gatepass.core.keys import MasterKeyError
from gatepass.core.text import clip
from gatepass.durations import parse_duration
from gatepass.views import iso

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
Scopes = Annotated[list[str] | None, typer.Option("--scope", help="A scope (repeatable).")]


class State:
    config: Path | None = None
    json: bool = False  # `--json` is on the command line: failures are JSON documents too


state = State()


class JsonAwareGroup(TyperGroup):
    """The root command: notes whether `--json` was asked for before anything can fail, and
    under `--json` turns usage errors (unknown option, missing argument) into JSON as well."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        options = args[: args.index("--")] if "--" in args else args
        state.json = "--json" in options
        with _usage_errors_as_json():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        with _usage_errors_as_json():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_as_json() -> Iterator[None]:
    try:
        yield
    except ClickException as exc:
        if not state.json:
            raise
        emit_json({"error": exc.format_message()})
        raise typer.Exit(exc.exit_code) from None


def fail(message: str, code: int = 1, *, problems: Sequence[str] = ()) -> NoReturn:
    if state.json:
        emit_json({"error": message, **({"problems": list(problems)} if problems else {})})
    else:
        details = ":" + "".join(f"\n  - {problem}" for problem in problems) if problems else ""
        err.print(f"[bold red]error:[/] {escape(message + details)}", markup=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings(state.config)
    except ConfigError as exc:
        fail_config(exc)


def fail_config(exc: ConfigError) -> NoReturn:
    """One problem: one line. Several: a heading, then one line each."""
    if len(exc.problems) == 1:
        fail("invalid configuration: " + exc.problems[0])
    fail(f"invalid configuration ({len(exc.problems)} problems)", problems=exc.problems)


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Every failure a command expects (bad settings, a database that cannot be opened, a
    refused operation) as one line and exit status 1."""
    try:
        yield
    except ConfigError as exc:
        fail_config(exc)
    except (SetupError, DatabaseUnusable, BackupError, MasterKeyError) as exc:
        fail(str(exc))
    except GatepassError as exc:
        fail(exc.description)


def actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def run(job: Callable[[Container], Awaitable[T]], *, initialize: bool = False) -> T:
    """Open the runtime, run one job, close; every expected failure becomes one line."""
    config = settings()

    async def main() -> T:
        runtime = await open_container(config, initialize=initialize, buffered_audit=False)
        try:
            return await job(runtime)
        finally:
            await runtime.close()

    with one_line_errors():
        return asyncio.run(main())


def duration(value: str | None, what: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        fail(f"invalid {what} {clip(value)!r}: use e.g. 90s, 15m, 1h, 30d")


def when(epoch: float | None) -> str:
    """A time in a table: the views' ISO 8601 form, or a dash."""
    return iso(epoch) or "-"


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def report(as_json: bool, document: Any, line: str) -> None:
    """A command's result: the document for scripts (`--json`), else one line for people."""
    if as_json:
        emit_json(document)
    else:
        out.print(line, markup=False)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*("-" if cell is None else str(cell) for cell in row))
    out.print(grid)


def read_secret_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        fail(f"no {what} on standard input")
    return value


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"invalid {what} {clip(pair)!r}: use KEY=VALUE")
        result[key] = value
    return result
