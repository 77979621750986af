"""`gatepass keys …`: signing keys (public data only) and rotation."""

from __future__ import annotations

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, report, run, table, when
from gatepass.views import signing_key_view

keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("list")
def keys_list(as_json: bool = JSON_OPTION) -> None:
    """List signing keys (public data only)."""
    keys = run(lambda rt: rt.admin.list_signing_keys())
    if as_json:
        emit_json([signing_key_view(k) for k in keys])
    else:
        table(
            "Signing keys",
            ["kid", "alg", "status", "created", "published until"],
            [(k.kid, k.alg, k.status, when(k.created_at), when(k.publish_until)) for k in keys],
        )


@keys_app.command("rotate")
def keys_rotate(as_json: bool = JSON_OPTION) -> None:
    """Create a new signing key; older keys keep verifying until their tokens expire."""
    key = run(lambda rt: rt.admin.rotate_signing_key(actor=actor()))
    report(as_json, signing_key_view(key), f"new signing key {key.kid} ({key.alg}) is active")
