"""What every CLI command shares: settings, the runtime, output as Rich tables or JSON, and
errors as one clear line (exit status 1), never a traceback."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from gatepass.config import ConfigError, Settings, load_settings, parse_duration
from gatepass.core.errors import GatepassError
from gatepass.runtime import Runtime, SetupError, open_runtime

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")


class State:
    config: Path | None = None


state = State()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        return load_settings(state.config)
    except ConfigError as exc:
        fail(config_error_text(exc))


def config_error_text(exc: ConfigError) -> str:
    """One problem: one line. Several: a heading, then one line each."""
    if len(exc.problems) == 1:
        return "invalid configuration: " + exc.problems[0]
    lines = "".join(f"\n  - {problem}" for problem in exc.problems)
    return f"invalid configuration ({len(exc.problems)} problems):{lines}"


def actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def run(job: Callable[[Runtime], Awaitable[T]], *, initialize: bool = False) -> T:
    """Open the runtime, run one job, close; every expected failure becomes one line."""
    config = settings()

    async def main() -> T:
        runtime = await open_runtime(config, initialize=initialize, buffered_audit=False)
        try:
            return await job(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        fail(config_error_text(exc))
    except SetupError as exc:
        fail(str(exc))
    except GatepassError as exc:
        fail(exc.description)


def duration(value: str | None, what: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        fail(f"invalid {what} {value!r}: use e.g. 90s, 15m, 1h, 30d")


def when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


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
            fail(f"invalid {what} {pair!r}: use KEY=VALUE")
        result[key] = value
    return result
