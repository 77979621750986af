"""`gatepass resource …`: registering the APIs tokens may be asked for (RFC 8707)."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, out, run, table, when
from gatepass.views import resource_view

resource_app = typer.Typer(
    help="Registered APIs: tokens asked for one carry its URI as aud.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(resource_app, name="resource")


@resource_app.command("add")
def resource_add(
    uri: Annotated[str, typer.Argument(help="The API's URI, e.g. https://api.example.com.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A scope its tokens may carry (repeatable)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="What the API is (default: its URI).")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an API: tokens asked for it (`resource=URI`) carry `aud` = URI."""
    added = run(lambda rt: rt.admin.add_resource(uri, scopes=scope or [], name=name, actor=actor()))
    if as_json:
        emit_json(resource_view(added))
    else:
        offered = " ".join(sorted(added.scopes)) or "no scopes"
        out.print(f"resource {added.uri} registered ({offered})")


@resource_app.command("list")
def resource_list(as_json: bool = JSON_OPTION) -> None:
    """List registered APIs."""
    found = run(lambda rt: rt.admin.list_resources())
    if as_json:
        emit_json([resource_view(r) for r in found])
    else:
        table(
            "Registered APIs",
            ["uri", "name", "scopes", "created"],
            [(r.uri, r.name, " ".join(sorted(r.scopes)), when(r.created_at)) for r in found],
        )


@resource_app.command("delete")
def resource_delete(uri: str, as_json: bool = JSON_OPTION) -> None:
    """Remove a registered API: no new token is issued for it."""
    run(lambda rt: rt.admin.delete_resource(uri, actor=actor()))
    if as_json:
        emit_json({"uri": uri, "deleted": True})
    else:
        out.print(f"resource {uri} deleted")
