"""`gatepass client …`: clients — machine principals, and apps that sign people in through
the browser (`--grant authorization_code`, OpenID Connect); a secret is shown once."""

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
from gatepass.core.models import Client
from gatepass.core.oidc.clients import DEFAULT_ID_TOKEN_ALG, OidcAdmin
from gatepass.views import client_view

client_app = typer.Typer(help="API clients (machine principals).", no_args_is_help=True)
Grants = Annotated[
    list[str] | None,
    typer.Option(
        "--grant",
        help="An OAuth grant the client may use: client_credentials, password, refresh_token, "
        "authorization_code (browser sign-in), token-exchange, jwt-bearer, or none "
        "(repeatable; default client_credentials).",
    ),
]


RedirectUris = Annotated[
    list[str] | None,
    typer.Option(
        "--redirect-uri",
        help="Where the authorization server may send the browser back (repeatable; "
        "https, http on 127.0.0.1/[::1]/localhost, or a private-use scheme such as "
        "com.example.app:/callback). Matched exactly, except a loopback port.",
    ),
]
PostLogoutUris = Annotated[
    list[str] | None,
    typer.Option(
        "--post-logout-redirect-uri",
        help="Where RP-initiated logout may send the browser (repeatable).",
    ),
]
WebOrigins = Annotated[
    list[str] | None,
    typer.Option(
        "--web-origin",
        help="A browser origin (scheme://host[:port]) allowed to call the token, userinfo, "
        "revocation, JWKS and discovery endpoints with CORS (repeatable).",
    ),
]
IdTokenAlg = Annotated[
    str | None,
    typer.Option(
        "--id-token-alg",
        help="How this client's ID tokens are signed: RS256 (default) or ES256.",
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
    redirect_uri: RedirectUris = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="A client that cannot keep a secret (SPA, mobile or CLI app): no secret is "
            "issued and PKCE is required (authorization_code only).",
        ),
    ] = False,
    first_party: Annotated[
        bool,
        typer.Option("--first-party", help="Your own app: users are not asked for consent."),
    ] = False,
    post_logout_redirect_uri: PostLogoutUris = None,
    web_origin: WebOrigins = None,
    id_token_alg: IdTokenAlg = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register a client; its secret is shown once. With `--grant authorization_code` it
    signs people in through the browser (OpenID Connect): give its `--redirect-uri`s."""
    grants = [value.strip() for value in grant or []]
    if "authorization_code" in grants:
        if secret_stdin or meta:
            fail("--secret-stdin and --meta are not for --grant authorization_code clients")
        made = run(
            lambda rt: OidcAdmin(rt.admin).add_client(
                name,
                redirect_uris=redirect_uri or [],
                grant_types=grants,
                public=public,
                first_party=first_party,
                post_logout_redirect_uris=post_logout_redirect_uri or [],
                web_origins=web_origin or [],
                id_token_alg=id_token_alg or DEFAULT_ID_TOKEN_ALG,
                scopes=scope or [],
                org=org,
                client_id=client_id,
                actor=actor(),
            )
        )
        _created(made.client, made.client_secret or None, as_json)  # public: no secret
        return
    browser_only = {
        "--redirect-uri": redirect_uri,
        "--public": public,
        "--first-party": first_party,
        "--post-logout-redirect-uri": post_logout_redirect_uri,
        "--web-origin": web_origin,
        "--id-token-alg": id_token_alg,
    }
    given = [flag for flag, value in browser_only.items() if value]
    if given:
        fail(f"{', '.join(given)} only with --grant authorization_code")
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
    _created(created.client, None if secret_stdin else created.client_secret, as_json)


def _created(client: Client, shown: str | None, as_json: bool) -> None:
    if as_json:
        emit_json({**client_view(client), "client_secret": shown})
        return
    out.print(f"client_id:     {client.client_id}")
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


@client_app.command("set-redirects")
def client_set_redirects(
    client_id: str,
    redirect_uri: RedirectUris = None,
    post_logout_redirect_uri: PostLogoutUris = None,
    web_origin: WebOrigins = None,
    no_post_logout_redirect_uris: Annotated[
        bool,
        typer.Option("--no-post-logout-redirect-uris", help="Remove every post-logout URI."),
    ] = False,
    no_web_origins: Annotated[
        bool, typer.Option("--no-web-origins", help="Remove every web origin (no CORS).")
    ] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace a browser sign-in client's redirect URIs, post-logout redirect URIs or web
    origins. Each list given replaces that list; a list not given is kept."""
    if post_logout_redirect_uri and no_post_logout_redirect_uris:
        fail("give --post-logout-redirect-uri or --no-post-logout-redirect-uris, not both")
    if web_origin and no_web_origins:
        fail("give --web-origin or --no-web-origins, not both")
    post_logout = [] if no_post_logout_redirect_uris else post_logout_redirect_uri
    origins = [] if no_web_origins else web_origin
    if redirect_uri is None and post_logout is None and origins is None:
        fail(
            "give --redirect-uri, --post-logout-redirect-uri or --web-origin "
            "(or --no-post-logout-redirect-uris / --no-web-origins)"
        )
    client = run(
        lambda rt: OidcAdmin(rt.admin).set_redirects(
            client_id,
            redirect_uris=redirect_uri,
            post_logout_redirect_uris=post_logout,
            web_origins=origins,
            actor=actor(),
        )
    )
    if as_json:
        emit_json(client_view(client))
        return
    out.print(f"client {client_id} redirects to: {' '.join(client.redirect_uris) or '-'}")
    out.print(f"after logout to: {' '.join(client.post_logout_redirect_uris) or '-'}")
    out.print(f"web origins: {' '.join(client.web_origins) or '-'}")


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
