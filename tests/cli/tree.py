"""The CLI's command tree, read from the Typer app, for tests that must cover every command:
a command added later is in it without anyone remembering to list it."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any
from unittest import mock

import typer
import typer.testing
from typer.testing import CliRunner, Result

from gatepass.cli.main import app


@functools.cache
def root_command() -> Any:
    return typer.main.get_command(app)


def leaf_commands() -> dict[str, Any]:
    """Every command that runs something, by its path ("user disable"), from the root group."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found[" ".join(path)] = command
            return
        for name, subcommand in subcommands.items():
            walk(subcommand, (*path, name))

    walk(root_command(), ())
    return found


def option_names(command: Any) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", ())}


def invoke(argv: Sequence[str], env: Mapping[str, str], input: str | None = None) -> Result:
    """CliRunner.invoke, with the command tree built once: typer builds it again on every call,
    which is three quarters of the time of a command that fails at once."""
    with mock.patch.object(typer.testing, "_get_command", return_value=root_command()):
        return CliRunner().invoke(app, list(argv), input=input, env=dict(env))
