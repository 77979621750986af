"""Administration commands: orgs, roles, users, clients, API keys, keys, sessions, audit."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated, Any

import typer

from gatepass.app.container import Container
from gatepass.cli.common import (
    JSON_OPTION,
    actor,
    duration,
    emit_json,
    fail,
    out,
    parse_pairs,
    read_secret_stdin,
    report,
    run,
    table,
    when,
)
from gatepass.core.models import ApiKey, AuditEvent, Client, Session, SigningKeyRecord, User
from gatepass.core.oidc.clients import DEFAULT_ID_TOKEN_ALG, OidcAdmin
from gatepass.core.ports import AuditQuery

org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
client_app = typer.Typer(help="API clients (machine principals).", no_args_is_help=True)
apikey_app = typer.Typer(help="User API keys.", no_args_is_help=True)
role_app = typer.Typer(help="Roles (named sets of scopes).", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
sessions_app = typer.Typer(help="Login sessions.", no_args_is_help=True)

Scopes = Annotated[list[str] | None, typer.Option("--scope", help="A scope (repeatable).")]
Grants = Annotated[
    list[str] | None,
    typer.Option(
        "--grant",
        help="An OAuth grant the client may use: client_credentials, password, refresh_token, "
        "authorization_code (browser sign-in), token-exchange, jwt-bearer, or none "
        "(repeatable; default client_credentials).",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(client_app, name="client")
    app.add_typer(apikey_app, name="apikey")
    app.add_typer(role_app, name="role")
    app.add_typer(keys_app, name="keys")
    app.add_typer(sessions_app, name="sessions")
    app.command("audit")(audit)


# ---------------------------------------------------------------------- orgs


@org_app.command("add")
def org_add(
    uid: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an organization."""
    org = run(lambda rt: rt.admin.add_org(uid, name, actor=actor()))
    report(as_json, {"uid": org.uid, "name": org.name}, f"org {org.uid} created")


@org_app.command("list")
def org_list(as_json: bool = JSON_OPTION) -> None:
    """List organizations."""
    orgs = run(lambda rt: rt.admin.list_orgs())
    if as_json:
        emit_json([{"uid": o.uid, "name": o.name, "created_at": when(o.created_at)} for o in orgs])
    else:
        table(
            "Organizations",
            ["uid", "name", "created"],
            [(o.uid, o.name, when(o.created_at)) for o in orgs],
        )


@org_app.command("rename")
def org_rename(uid: str, name: str, as_json: bool = JSON_OPTION) -> None:
    """Give an organization a new display name (its uid stays)."""
    org = run(lambda rt: rt.admin.rename_org(uid, name, actor=actor()))
    report(as_json, {"uid": org.uid, "name": org.name}, f"org {org.uid} renamed to {org.name}")


@org_app.command("delete")
def org_delete(uid: str, as_json: bool = JSON_OPTION) -> None:
    """Delete an organization no user, client or issuer refers to."""
    run(lambda rt: rt.admin.delete_org(uid, actor=actor()))
    report(as_json, {"uid": uid, "deleted": True}, f"org {uid} deleted")


# ---------------------------------------------------------------------- roles


@role_app.command("add")
def role_add(
    name: str,
    scope: Scopes = None,
    description: Annotated[str, typer.Option(help="What the role is for.")] = "",
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or replace a role granting scopes."""
    if not scope:
        fail("give at least one --scope")
    role = run(lambda rt: rt.admin.put_role(name, scope, description, actor=actor()))
    report(
        as_json,
        {"name": role.name, "scopes": sorted(role.scopes)},
        f"role {role.name} grants {' '.join(sorted(role.scopes))}",
    )


@role_app.command("list")
def role_list(as_json: bool = JSON_OPTION) -> None:
    """List roles."""
    roles = run(lambda rt: rt.admin.list_roles())
    if as_json:
        emit_json(
            [
                {"name": r.name, "scopes": sorted(r.scopes), "description": r.description}
                for r in roles
            ]
        )
    else:
        table(
            "Roles",
            ["name", "scopes", "description"],
            [(r.name, " ".join(sorted(r.scopes)), r.description) for r in roles],
        )


@role_app.command("delete")
def role_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a role."""
    run(lambda rt: rt.admin.delete_role(name, actor=actor()))
    report(as_json, {"name": name, "deleted": True}, f"role {name} deleted")


# ---------------------------------------------------------------------- users


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "org": user.org_uid,
        "roles": list(user.roles),
        "scopes": sorted(user.scopes),
        "disabled": user.disabled,
        "created_at": when(user.created_at),
        "updated_at": when(user.updated_at),
    }


@user_app.command("add")
def user_add(
    name: str,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    org: Annotated[str | None, typer.Option(help="Organization uid.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A role (repeatable).")] = None,
    scope: Scopes = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    generate_password: Annotated[bool, typer.Option("--generate-password")] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="API keys or external login only.")
    ] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user."""
    if sum([password_stdin, generate_password, no_password]) > 1:
        fail("choose one of --password-stdin, --generate-password, --no-password")
    password: str | None = None
    if password_stdin:
        password = read_secret_stdin("password")
    elif generate_password:
        password = secrets.token_urlsafe(18)
    elif not no_password:
        if not sys.stdin.isatty():
            fail("give --password-stdin, --generate-password or --no-password")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = run(
        lambda rt: rt.admin.add_user(
            name,
            password=password,
            email=email,
            display_name=display_name,
            org=org,
            roles=role or [],
            scopes=scope or [],
            actor=actor(),
        )
    )
    data = user_json(user)
    if generate_password:
        data["password"] = password
    if as_json:
        emit_json(data)
        return
    out.print(f"user {user.username} created (id {user.id})")
    if generate_password:
        out.print(f"password (shown once): {password}")


@user_app.command("list")
def user_list(
    org: Annotated[str | None, typer.Option(help="Only this organization.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of a username or email.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List users."""
    users = run(lambda rt: rt.admin.list_users(org=org, search=search, limit=limit))
    if as_json:
        emit_json([user_json(u) for u in users])
    else:
        table(
            "Users",
            ["username", "email", "org", "roles", "scopes", "disabled"],
            [
                (
                    u.username,
                    u.email,
                    u.org_uid,
                    " ".join(u.roles),
                    " ".join(sorted(u.scopes)),
                    "yes" if u.disabled else "no",
                )
                for u in users
            ],
        )


@user_app.command("show")
def user_show(name: str, as_json: bool = JSON_OPTION) -> None:
    """Show one user."""
    user = run(lambda rt: rt.admin.get_user(name))
    data = user_json(user)
    if as_json:
        emit_json(data)
    else:
        table(
            f"User {user.username}",
            ["field", "value"],
            [
                (key, " ".join(value) if isinstance(value, list) else value)
                for key, value in data.items()
            ],
        )


@user_app.command("disable")
def user_disable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Disable a user and revoke their sessions at once."""
    user, revoked = run(lambda rt: rt.admin.switch_user(name, True, actor=actor()))
    report(
        as_json,
        {**user_json(user), "sessions_revoked": revoked},
        f"user {name} disabled; their sessions are revoked",
    )


@user_app.command("enable")
def user_enable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a user again."""
    user, _ = run(lambda rt: rt.admin.switch_user(name, False, actor=actor()))
    report(as_json, user_json(user), f"user {name} enabled")


@user_app.command("passwd")
def user_passwd(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    generate_password: Annotated[bool, typer.Option("--generate-password")] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a user's password."""
    if password_stdin:
        password = read_secret_stdin("password")
    elif generate_password:
        password = secrets.token_urlsafe(18)
    elif sys.stdin.isatty():
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        fail("give --password-stdin or --generate-password")
    run(lambda rt: rt.admin.set_password(name, password, actor=actor()))
    if as_json:
        emit_json({"username": name, "password": password if generate_password else None})
    elif generate_password:
        out.print(f"password (shown once): {password}")
    else:
        out.print(f"password of {name} changed")


@user_app.command("delete")
def user_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a user, their API keys, and revoke their sessions."""
    revoked = run(lambda rt: rt.admin.delete_user(name, actor=actor()))
    report(
        as_json,
        {"username": name, "deleted": True, "sessions_revoked": revoked},
        f"user {name} deleted",
    )


# ---------------------------------------------------------------------- clients


def client_json(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "org": client.org_uid,
        "scopes": sorted(client.scopes),
        "metadata": dict(client.metadata),
        "grant_types": sorted(client.grant_types),
        "disabled": client.disabled,
        "created_at": when(client.created_at),
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "web_origins": list(client.web_origins),
        "public": client.public,
        "first_party": client.first_party,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
    }


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
        created = run(
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
        _created(created.client.client_id, created.client_secret or None, as_json)
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
    made = run(
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
    _created(made.client.client_id, None if secret_stdin else made.client_secret, as_json)


def _created(client_id: str, shown: str | None, as_json: bool) -> None:
    if as_json:
        emit_json({"client_id": client_id, "client_secret": shown})
        return
    out.print(f"client_id:     {client_id}")
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
        emit_json([client_json(c) for c in clients])
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
    data = client_json(client)
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
        emit_json(client_json(client))
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
        emit_json(client_json(client))
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
        {"client_id": client_id, "client_secret": created.client_secret},
        f"client_secret: {created.client_secret}  (shown once)",
    )


@client_app.command("disable")
def client_disable(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Disable a client and revoke its tokens at once."""
    client, revoked = run(lambda rt: rt.admin.switch_client(client_id, True, actor=actor()))
    report(
        as_json,
        {**client_json(client), "sessions_revoked": revoked},
        f"client {client_id} disabled; its tokens are revoked",
    )


@client_app.command("enable")
def client_enable(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a client again."""
    client, _ = run(lambda rt: rt.admin.switch_client(client_id, False, actor=actor()))
    report(as_json, client_json(client), f"client {client_id} enabled")


@client_app.command("delete")
def client_delete(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a client and revoke its tokens."""
    revoked = run(lambda rt: rt.admin.delete_client(client_id, actor=actor()))
    report(
        as_json,
        {"client_id": client_id, "deleted": True, "sessions_revoked": revoked},
        f"client {client_id} deleted",
    )


# ---------------------------------------------------------------------- API keys


def apikey_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "user_id": key.user_id,
        "name": key.name,
        "prefix": key.display_prefix,
        "scopes": sorted(key.scopes),
        "created_at": when(key.created_at),
        "expires_at": when(key.expires_at) if key.expires_at else None,
        "last_used_at": when(key.last_used_at) if key.last_used_at else None,
        "revoked": key.revoked_at is not None,
    }


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
        emit_json({"id": created.key.id, "api_key": created.api_key})
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
        emit_json([apikey_json(k) for k in keys])
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


# ---------------------------------------------------------------------- signing keys


def key_json(key: SigningKeyRecord) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "status": key.status,
        "created_at": when(key.created_at),
        "retired_at": when(key.retired_at),
        "published_until": when(key.publish_until) if key.publish_until else None,
    }


@keys_app.command("list")
def keys_list(as_json: bool = JSON_OPTION) -> None:
    """List signing keys (public data only)."""
    keys = run(lambda rt: rt.admin.list_signing_keys())
    if as_json:
        emit_json([key_json(k) for k in keys])
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
    report(as_json, key_json(key), f"new signing key {key.kid} ({key.alg}) is active")


# ---------------------------------------------------------------------- sessions


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "kind": session.principal_kind.value,
        "subject": session.subject,
        "principal_id": session.principal_id,
        "method": session.auth_method.value,
        "surface": session.profile,
        "created_at": when(session.created_at),
        "last_used_at": when(session.last_used_at),
        "expires_at": when(session.expires_at),
        "client_ip": session.client_ip,
        "revoked_at": when(session.revoked_at),
    }


@sessions_app.command("list")
def sessions_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's sessions.")] = None,
    include_ended: Annotated[bool, typer.Option("--all", help="Also revoked/expired.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List sessions (active ones unless --all)."""
    sessions = run(
        lambda rt: rt.admin.list_sessions(user, active_only=not include_ended, limit=limit)
    )
    if as_json:
        emit_json([session_json(s) for s in sessions])
    else:
        table(
            "Sessions",
            ["id", "subject", "method", "surface", "created", "expires", "ip"],
            [
                (
                    s.id,
                    s.subject,
                    s.auth_method.value,
                    s.profile,
                    when(s.created_at),
                    when(s.expires_at),
                    s.client_ip,
                )
                for s in sessions
            ],
        )


@sessions_app.command("revoke")
def sessions_revoke(session_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke a session: its tokens are refused at once."""
    run(lambda rt: rt.admin.revoke_session(session_id, actor=actor()))
    report(as_json, {"id": session_id, "revoked": True}, f"session {session_id} revoked")


# ---------------------------------------------------------------------- audit


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": when(event.at),
        "event": event.event,
        "outcome": event.outcome,
        "actor": event.actor,
        "target": event.target,
        "ip": event.ip,
        "surface": event.surface,
        "details": dict(event.details),
    }


def audit(
    user: Annotated[str | None, typer.Option("--user", help="Actor or target.")] = None,
    since: Annotated[str | None, typer.Option(help="e.g. 1h, 7d")] = None,
    event: Annotated[str | None, typer.Option(help="Event name, or a prefix ending in '.'")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit events, newest first."""
    window = duration(since, "--since")

    async def job(rt: Container) -> list[AuditEvent]:
        start = rt.clock.now() - window if window is not None else None
        return await rt.admin.audit(AuditQuery(user=user, event=event, since=start, limit=limit))

    events = run(job)
    if as_json:
        emit_json([audit_json(e) for e in events])
    else:
        table(
            "Audit",
            ["at", "event", "outcome", "actor", "target", "ip", "details"],
            [
                (
                    when(e.at),
                    e.event,
                    e.outcome,
                    e.actor,
                    e.target,
                    e.ip,
                    " ".join(f"{k}={v}" for k, v in e.details.items()),
                )
                for e in events
            ],
        )
