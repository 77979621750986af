"""`gatepass apikey …`: users' API keys; a key is shown once."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import (
    JSON_OPTION,
    Scopes,
    actor,
    duration,
    emit_json,
    out,
    report,
    run,
    table,
    when,
)
from gatepass.views import api_key_view

apikey_app = typer.Typer(help="User API keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(apikey_app, name="apikey")


@apikey_app.command("add")
def apikey_add(
    user: Annotated[str, typer.Option("--user", help="Owner's username.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    scope: Scopes = None,
    expires_in: Annotated[str | None, typer.Option("--expires-in", help="e.g. 30d")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key for a user; it is shown once."""
    lifetime = duration(expires_in, "--expires-in")
    created = run(
        lambda rt: rt.admin.add_api_key(
            user, name=name, scopes=scope, expires_in=lifetime, actor=actor()
        )
    )
    if as_json:
        emit_json({**api_key_view(created.key), "api_key": created.api_key})
        return
    out.print(f"id:      {created.key.id}")
    out.print(f"api_key: {created.api_key}  (shown once)")


@apikey_app.command("list")
def apikey_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """List API keys (never the keys themselves)."""
    keys = run(lambda rt: rt.admin.list_api_keys(user))
    if as_json:
        emit_json([api_key_view(k) for k in keys])
    else:
        table(
            "API keys",
            ["id", "prefix", "name", "scopes", "expires", "last used", "revoked"],
            [
                (
                    k.id,
                    k.display_prefix,
                    k.name,
                    " ".join(sorted(k.scopes)),
                    when(k.expires_at),
                    when(k.last_used_at),
                    "yes" if k.revoked_at else "no",
                )
                for k in keys
            ],
        )


@apikey_app.command("revoke")
def apikey_revoke(key_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke an API key."""
    run(lambda rt: rt.admin.revoke_api_key(key_id, actor=actor()))
    report(as_json, {"id": key_id, "revoked": True}, f"API key {key_id} revoked")
