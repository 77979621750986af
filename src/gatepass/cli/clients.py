"""`gatepass client …`: API clients (machine principals); a secret is shown once."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import (
    JSON_OPTION,
    Scopes,
    actor,
    emit_json,
    fail,
    out,
    parse_pairs,
    read_secret_stdin,
    report,
    run,
    table,
)
from gatepass.views import client_view

client_app = typer.Typer(help="API clients (machine principals).", no_args_is_help=True)
Grants = Annotated[
    list[str] | None,
    typer.Option(
        "--grant",
        help="An OAuth grant the client may use: client_credentials, password, refresh_token, "
        "or none (repeatable; default client_credentials).",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(client_app, name="client")


@client_app.command("add")
def client_add(
    name: str,
    org: Annotated[str | None, typer.Option(help="Organization uid.")] = None,
    scope: Scopes = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", help="KEY=VALUE (repeatable).")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="Use this id instead of a generated one.")
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Import an existing secret from stdin.")
    ] = False,
    grant: Grants = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an API client; its secret is shown once."""
    metadata = parse_pairs(meta or [], "--meta")
    secret = read_secret_stdin("secret") if secret_stdin else None
    created = run(
        lambda rt: rt.admin.add_client(
            name,
            org=org,
            scopes=scope or [],
            metadata=metadata,
            client_id=client_id,
            client_secret=secret,
            grant_types=grant,
            actor=actor(),
        )
    )
    shown = None if secret_stdin else created.client_secret
    if as_json:
        emit_json({**client_view(created.client), "client_secret": shown})
        return
    out.print(f"client_id:     {created.client.client_id}")
    if shown:
        out.print(f"client_secret: {shown}  (shown once)")


@client_app.command("list")
def client_list(
    org: Annotated[str | None, typer.Option(help="Only this organization.")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """List API clients."""
    clients = run(lambda rt: rt.admin.list_clients(org=org))
    if as_json:
        emit_json([client_view(c) for c in clients])
    else:
        table(
            "Clients",
            ["client_id", "name", "org", "scopes", "disabled"],
            [
                (
                    c.client_id,
                    c.name,
                    c.org_uid,
                    " ".join(sorted(c.scopes)),
                    "yes" if c.disabled else "no",
                )
                for c in clients
            ],
        )


@client_app.command("show")
def client_show(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Show one client (never its secret)."""
    client = run(lambda rt: rt.admin.get_client(client_id))
    data = client_view(client)
    if as_json:
        emit_json(data)
    else:
        table(
            f"Client {client.client_id}",
            ["field", "value"],
            [(key, value) for key, value in data.items()],
        )


@client_app.command("set-grants")
def client_set_grants(client_id: str, grant: Grants = None, as_json: bool = JSON_OPTION) -> None:
    """Replace the OAuth grants a client may use (`--grant none` for none)."""
    if not grant:
        fail("give at least one --grant (or --grant none)")
    client = run(lambda rt: rt.admin.update_client(client_id, grant_types=grant, actor=actor()))
    if as_json:
        emit_json(client_view(client))
    else:
        grants = " ".join(sorted(client.grant_types)) or "none"
        out.print(f"client {client_id} may use: {grants}")


@client_app.command("rotate-secret")
def client_rotate(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Issue a new secret (shown once); the old one stops working and sessions are revoked."""
    created = run(lambda rt: rt.admin.rotate_client_secret(client_id, actor=actor()))
    report(
        as_json,
        {**client_view(created.client), "client_secret": created.client_secret},
        f"client_secret: {created.client_secret}  (shown once)",
    )


@client_app.command("disable")
def client_disable(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Disable a client and revoke its tokens at once."""
    client, revoked = run(lambda rt: rt.admin.switch_client(client_id, True, actor=actor()))
    report(
        as_json,
        {**client_view(client), "sessions_revoked": revoked},
        f"client {client_id} disabled; its tokens are revoked",
    )


@client_app.command("enable")
def client_enable(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a client again."""
    client, _ = run(lambda rt: rt.admin.switch_client(client_id, False, actor=actor()))
    report(as_json, client_view(client), f"client {client_id} enabled")


@client_app.command("delete")
def client_delete(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a client and revoke its tokens."""
    revoked = run(lambda rt: rt.admin.delete_client(client_id, actor=actor()))
    report(
        as_json,
        {"client_id": client_id, "deleted": True, "sessions_revoked": revoked},
        f"client {client_id} deleted",
    )
