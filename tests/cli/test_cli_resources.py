"""`gatepass resource add|list|delete`: one JSON document each with --json, and one clear line
for a refused URI."""

from __future__ import annotations

import pytest

from gatepass.cli.resources import resource_app
from tests.cli.test_cli import cli, cli_json, home

__all__ = ["home"]  # the fixture, used by name


def test_add_list_and_delete(home):
    cli("init", "--admin", "root", "--json")
    added = cli_json(
        "resource", "add", "https://notes.example.com", "--scope", "notes:read",
        "--scope", "notes:write", "--name", "Notes",
    )  # fmt: skip
    assert added == {
        "uri": "https://notes.example.com",
        "name": "Notes",
        "scopes": ["notes:read", "notes:write"],
        "created_at": added["created_at"],
    }
    plain = cli("resource", "add", "urn:example:billing")
    assert plain.stdout == "resource urn:example:billing registered (no scopes)\n"
    assert [r["uri"] for r in cli_json("resource", "list")] == [
        "https://notes.example.com",
        "urn:example:billing",
    ]
    assert cli("resource", "list").stdout.startswith("Registered APIs\n")
    assert cli_json("resource", "delete", "urn:example:billing") == {
        "uri": "urn:example:billing",
        "deleted": True,
    }
    assert cli("resource", "delete", "https://notes.example.com").stdout == (
        "resource https://notes.example.com deleted\n"
    )
    assert cli_json("resource", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["api.example.com"],
         "error: 'api.example.com' is not an absolute URI (such as https://api.example.com)\n"),
        (["https://api.example.com#top"],
         "error: 'https://api.example.com#top' has a fragment; a resource URI must not "
         "(RFC 8707 §2)\n"),
        (["https://api.example.com", "--scope", "gatepass:admin"],
         "error: gatepass:admin is privileged: it is never granted for an API\n"),
        (["https://api.example.com", "--scope", "bad scope"],
         "error: invalid scope name(s): bad scope\n"),
    ],
)  # fmt: skip
def test_a_refused_uri_is_one_line(home, args, message):
    cli("init", "--json")
    result = cli("resource", "add", *args, ok=False)
    assert (result.exit_code, result.output) == (1, message)


def test_delete_and_duplicates_are_one_line(home):
    cli("init", "--json")
    cli("resource", "add", "https://api.example.com")
    again = cli("resource", "add", "https://api.example.com", ok=False)
    assert (again.exit_code, again.output) == (
        1,
        "error: resource https://api.example.com already exists\n",
    )
    missing = cli("resource", "delete", "https://nothing.example.com", ok=False)
    assert (missing.exit_code, missing.output) == (
        1,
        "error: no resource https://nothing.example.com\n",
    )


def test_every_resource_command_takes_json():
    for command in resource_app.registered_commands:
        assert command.callback is not None
        assert "as_json" in command.callback.__code__.co_varnames, command.name
