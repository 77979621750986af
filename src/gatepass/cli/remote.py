"""Logging in to a remote gatepass server, and administering it through its admin API.

`gatepass login --url URL` stores the tokens (never the password) in the user's config
directory (`$XDG_CONFIG_HOME/gatepass/login.json`, else `~/.config/…`; mode 0600); `whoami`,
`logout` and every `gatepass remote …` command use them through the SDK, which refreshes them
as needed. These commands read no server configuration and open no database.

The admin API needs `gatepass:admin`, which a server grants only when it is asked for by name,
so `gatepass login` asks for it unless `--scope` says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from gatepass.cli.common import JSON_OPTION, emit_json, fail, out, read_secret_stdin, report, table
from gatepass.client import (
    ADMIN_SCOPE,
    Client,
    ConnectionFailed,
    FileTokenStore,
    GatepassError,
    InvalidGrant,
    InvalidScope,
    NotLoggedIn,
    TokenRevoked,
)

T = TypeVar("T")
remote_app = typer.Typer(
    help="Administer a remote server through its admin API (after `gatepass login`).",
    no_args_is_help=True,
)
remote_user = typer.Typer(help="Users.", no_args_is_help=True)
remote_client = typer.Typer(help="API clients.", no_args_is_help=True)
remote_apikey = typer.Typer(help="User API keys.", no_args_is_help=True)
remote_sessions = typer.Typer(help="Login sessions.", no_args_is_help=True)
remote_app.add_typer(remote_user, name="user")
remote_app.add_typer(remote_client, name="client")
remote_app.add_typer(remote_apikey, name="apikey")
remote_app.add_typer(remote_sessions, name="sessions")

Scopes = Annotated[list[str] | None, typer.Option("--scope", help="A scope (repeatable).")]
Limit = Annotated[int, typer.Option(min=1, max=10_000)]


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("whoami")(whoami)
    app.command("logout")(logout)
    app.add_typer(remote_app, name="remote")
    remote_app.command("audit")(remote_audit)


# ---------------------------------------------------------------------- the stored login


def login_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gatepass" / "login.json"


def stored() -> tuple[FileTokenStore, dict[str, Any]]:
    store = FileTokenStore(login_file())
    document = store.read()
    if not document or not isinstance(document.get("base_url"), str):
        fail("not logged in: run `gatepass login --url URL` first")
    return store, document


@contextlib.contextmanager
def answers() -> Iterator[None]:
    """SDK errors as one line: an ended login says how to log in again."""
    try:
        yield
    except (TokenRevoked, InvalidGrant, NotLoggedIn) as exc:
        fail(f"your login has ended ({exc.description}): run `gatepass login` again")
    except ConnectionFailed as exc:
        fail(exc.description)
    except GatepassError as exc:
        fail(exc.description)


def call(job: Callable[[Client], T]) -> T:
    store, document = stored()
    with answers(), Client(document["base_url"], token_store=store) as client:
        return job(client)


def pages(client: Client, path: str, params: dict[str, Any], limit: int) -> list[Any]:
    """Every item of a paged admin list, following `next`, up to `limit`."""
    items: list[Any] = []
    query = {key: value for key, value in params.items() if value is not None}
    next_path: str | None = path
    while next_path is not None and len(items) < limit:
        page = client.json("GET", next_path, params=query)
        items.extend(page["items"])
        next_path, query = page.get("next"), {}
    return items[:limit]


# ---------------------------------------------------------------------- login, whoami, logout


def login(
    url: Annotated[
        str, typer.Option("--url", envvar="GATEPASS_REMOTE_URL", help="The server's address.")
    ],
    username: Annotated[
        str | None, typer.Option("--username", envvar="GATEPASS_REMOTE_USERNAME")
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="Log in with an API key instead.")
    ] = False,
    client_id: Annotated[
        str | None, typer.Option("--client-id", help="Log in as an API client.")
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="The client's secret, with --client-id.")
    ] = False,
    scope: Annotated[
        str,
        typer.Option(
            help="The scopes to ask for, space-separated. The default, gatepass:admin, is what "
            "`gatepass remote` needs; a server grants it only when asked for by name."
        ),
    ] = ADMIN_SCOPE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Log in to a gatepass server and keep the tokens (not the password) for later commands."""
    if sum([password_stdin, api_key_stdin, secret_stdin]) > 1:
        fail("choose one of --password-stdin, --api-key-stdin, --secret-stdin")
    credentials: dict[str, Any]
    if client_id is not None or secret_stdin:
        if client_id is None or not secret_stdin:
            fail("an API client logs in with --client-id and --secret-stdin")
        credentials = {"client_id": client_id, "client_secret": read_secret_stdin("secret")}
    else:
        name = username or typer.prompt("Username")
        if api_key_stdin:
            credentials = {"username": name, "api_key": read_secret_stdin("API key")}
        else:
            secret = (
                read_secret_stdin("password")
                if password_stdin
                else typer.prompt("Password", hide_input=True)
            )
            credentials = {"username": name, "password": secret}
    store = FileTokenStore(login_file())
    with answers(), Client(url, scope=scope, **credentials) as client:
        try:
            client.login()
        except InvalidScope:
            fail(
                f"this account does not hold {scope}; `gatepass login` asks for {ADMIN_SCOPE} "
                "(needed by `gatepass remote`) unless --scope names what to ask for"
            )
        me = client.me()
        tokens = client.tokens
        assert tokens is not None
        store.save(client.base_url, tokens, principal=_who(me))
    report(
        as_json,
        {"url": client.base_url, "principal": _who(me), "scopes": me["scopes"]},
        f"logged in to {client.base_url} as {_who(me)}",
    )


def _who(me: dict[str, Any]) -> str:
    return str(me.get("username") or me.get("client_id") or me.get("id"))


def whoami(as_json: bool = JSON_OPTION) -> None:
    """Who the stored login speaks for, on which server."""
    _, document = stored()
    me = call(lambda client: client.me())
    if as_json:
        emit_json({"url": document["base_url"], **me})
    else:
        out.print(
            f"{_who(me)} ({me['kind']}) at {document['base_url']}; "
            f"scopes: {' '.join(me['scopes']) or '-'}"
        )


def logout(as_json: bool = JSON_OPTION) -> None:
    """End the stored login's session on the server and forget its tokens."""
    path = login_file()
    document = FileTokenStore(path).read()
    if not document or not isinstance(document.get("base_url"), str):
        report(as_json, {"url": None, "logged_out": False, "session_ended": False}, "not logged in")
        return
    store = FileTokenStore(path)
    ended = False
    # Not through `call`: a server that cannot be told must not keep the tokens here.
    with contextlib.suppress(GatepassError), Client(document["base_url"], token_store=store) as c:
        c.logout()
        ended = True
    store.clear()  # even when the server could not be told
    report(
        as_json,
        {"url": document["base_url"], "logged_out": True, "session_ended": ended},
        f"logged out of {document['base_url']}",
    )


# ---------------------------------------------------------------------- users


def _user_row(u: dict[str, Any]) -> list[Any]:
    return [
        u["username"],
        u["email"],
        u["org"],
        " ".join(u["roles"]),
        " ".join(u["scopes"]),
        "yes" if u["disabled"] else "no",
    ]


USER_COLUMNS = ["username", "email", "org", "roles", "scopes", "disabled"]


@remote_user.command("list")
def user_list(
    org: Annotated[str | None, typer.Option(help="Only this organization.")] = None,
    search: Annotated[str | None, typer.Option(help="Part of a username or email.")] = None,
    limit: Limit = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List users."""
    users = call(lambda c: pages(c, "/admin/users", {"org": org, "search": search}, limit))
    if as_json:
        emit_json(users)
    else:
        table("Users", USER_COLUMNS, [_user_row(u) for u in users])


@remote_user.command("show")
def user_show(name: str, as_json: bool = JSON_OPTION) -> None:
    """Show one user."""
    user = call(lambda c: c.json("GET", f"/admin/users/{name}"))
    _show(f"User {user['username']}", user, as_json)


@remote_user.command("add")
def user_add(
    name: str,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    org: Annotated[str | None, typer.Option(help="Organization uid.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A role (repeatable).")] = None,
    scope: Scopes = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    generate_password: Annotated[bool, typer.Option("--generate-password")] = False,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a user (without a password unless one is given or generated)."""
    if password_stdin and generate_password:
        fail("choose one of --password-stdin, --generate-password")
    password = (
        read_secret_stdin("password")
        if password_stdin
        else secrets.token_urlsafe(18)
        if generate_password
        else None
    )
    body = {"username": name, "email": email, "org": org, "roles": role or [],
            "scopes": scope or [], "password": password}  # fmt: skip
    user = call(lambda c: c.json("POST", "/admin/users", json=body))
    if generate_password:
        user["password"] = password
    if as_json:
        emit_json(user)
        return
    out.print(f"user {user['username']} created (id {user['id']})")
    if generate_password:
        out.print(f"password (shown once): {password}")


def _changed(
    method: str, path: str, message: str, as_json: bool, gone: dict[str, Any] | None = None
) -> None:
    """A change through the admin API. Under --json: the changed object as the server returns
    it, or `gone` when the server answers 204 (deleted or revoked)."""
    if gone is None:
        changed = call(lambda c: c.json(method, path))
    else:
        call(lambda c: c.request(method, path))
        changed = gone
    report(as_json, changed, message)


@remote_user.command("disable")
def user_disable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Disable a user and revoke their sessions at once."""
    message = f"user {name} disabled; their sessions are revoked"
    _changed("POST", f"/admin/users/{name}/disable", message, as_json)


@remote_user.command("enable")
def user_enable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a user again."""
    _changed("POST", f"/admin/users/{name}/enable", f"user {name} enabled", as_json)


@remote_user.command("delete")
def user_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a user and their API keys; revoke their sessions."""
    gone = {"username": name, "deleted": True}
    _changed("DELETE", f"/admin/users/{name}", f"user {name} deleted", as_json, gone)


# ---------------------------------------------------------------------- clients


@remote_client.command("list")
def client_list(
    org: Annotated[str | None, typer.Option(help="Only this organization.")] = None,
    limit: Limit = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List API clients."""
    clients = call(lambda c: pages(c, "/admin/clients", {"org": org}, limit))
    if as_json:
        emit_json(clients)
        return
    table(
        "Clients",
        ["client_id", "name", "org", "scopes", "disabled"],
        [
            [c["client_id"], c["name"], c["org"], " ".join(c["scopes"]),
             "yes" if c["disabled"] else "no"]
            for c in clients
        ],
    )  # fmt: skip


@remote_client.command("show")
def client_show(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Show one client (never its secret)."""
    client = call(lambda c: c.json("GET", f"/admin/clients/{client_id}"))
    _show(f"Client {client_id}", client, as_json)


@remote_client.command("add")
def client_add(
    name: str,
    org: Annotated[str | None, typer.Option(help="Organization uid.")] = None,
    scope: Scopes = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Register an API client; its secret is shown once."""
    body = {"name": name, "org": org, "scopes": scope or []}
    created = call(lambda c: c.json("POST", "/admin/clients", json=body))
    if as_json:
        emit_json({"client_id": created["client_id"], "client_secret": created["client_secret"]})
        return
    out.print(f"client_id:     {created['client_id']}")
    out.print(f"client_secret: {created['client_secret']}  (shown once)")


@remote_client.command("rotate-secret")
def client_rotate(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Issue a new secret (shown once); the old one and the client's tokens stop working."""
    created = call(lambda c: c.json("POST", f"/admin/clients/{client_id}/rotate-secret"))
    report(
        as_json,
        {"client_id": client_id, "client_secret": created["client_secret"]},
        f"client_secret: {created['client_secret']}  (shown once)",
    )


@remote_client.command("delete")
def client_delete(client_id: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a client and revoke its tokens."""
    gone = {"client_id": client_id, "deleted": True}
    message = f"client {client_id} deleted"
    _changed("DELETE", f"/admin/clients/{client_id}", message, as_json, gone)


# ---------------------------------------------------------------------- API keys


@remote_apikey.command("add")
def apikey_add(
    user: Annotated[str, typer.Option("--user", help="Owner's username.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    scope: Scopes = None,
    expires_in: Annotated[str | None, typer.Option("--expires-in", help="e.g. 30d")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key for a user; the key is shown once."""
    body = {"user": user, "name": name, "scopes": scope or None, "expires_in": expires_in}
    created = call(lambda c: c.json("POST", "/admin/api-keys", json=body))
    if as_json:
        emit_json({"id": created["id"], "api_key": created["api_key"]})
    else:
        out.print(f"id:      {created['id']}")
        out.print(f"api_key: {created['api_key']}  (shown once)")


@remote_apikey.command("list")
def apikey_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's keys.")] = None,
    limit: Limit = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List API keys (never the keys themselves)."""
    keys = call(lambda c: pages(c, "/admin/api-keys", {"user": user}, limit))
    if as_json:
        emit_json(keys)
        return
    table(
        "API keys",
        ["id", "name", "prefix", "scopes", "expires", "revoked"],
        [
            [k["id"], k["name"], k["prefix"], " ".join(k["scopes"]), k["expires_at"],
             "yes" if k["revoked_at"] else "no"]
            for k in keys
        ],
    )  # fmt: skip


@remote_apikey.command("revoke")
def apikey_revoke(key_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke an API key."""
    gone = {"id": key_id, "revoked": True}
    _changed("DELETE", f"/admin/api-keys/{key_id}", f"API key {key_id} revoked", as_json, gone)


# ---------------------------------------------------------------------- sessions and audit


@remote_sessions.command("list")
def sessions_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's sessions.")] = None,
    include_ended: Annotated[bool, typer.Option("--all", help="Also revoked/expired.")] = False,
    limit: Limit = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List sessions (active ones unless --all)."""
    params = {"user": user, "active": "false" if include_ended else None}
    sessions = call(lambda c: pages(c, "/admin/sessions", params, limit))
    if as_json:
        emit_json(sessions)
        return
    table(
        "Sessions",
        ["id", "subject", "method", "surface", "created", "expires", "ip"],
        [
            [s["id"], s["subject"], s["method"], s["profile"], s["created_at"],
             s["expires_at"], s["client_ip"]]
            for s in sessions
        ],
    )  # fmt: skip


@remote_sessions.command("revoke")
def sessions_revoke(session_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke a session: its tokens are refused at once."""
    gone = {"id": session_id, "revoked": True}
    message = f"session {session_id} revoked"
    _changed("DELETE", f"/admin/sessions/{session_id}", message, as_json, gone)


def remote_audit(
    user: Annotated[str | None, typer.Option("--user", help="Actor or target.")] = None,
    since: Annotated[str | None, typer.Option(help="e.g. 1h, 7d")] = None,
    event: Annotated[str | None, typer.Option(help="Event name, or a prefix ending in '.'")] = None,
    limit: Limit = 50,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit events, newest first."""
    params = {"user": user, "since": since, "event": event, "limit": min(limit, 500)}
    events = call(lambda c: pages(c, "/admin/audit", params, limit))
    if as_json:
        emit_json(events)
        return
    table(
        "Audit",
        ["at", "event", "outcome", "actor", "target", "ip", "details"],
        [
            [e["at"], e["event"], e["outcome"], e["actor"], e["target"], e["ip"],
             " ".join(f"{k}={v}" for k, v in (e.get("details") or {}).items())]
            for e in events
        ],
    )  # fmt: skip


def _show(title: str, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    table(
        title,
        ["field", "value"],
        [
            (key, " ".join(map(str, value)) if isinstance(value, list) else value)
            for key, value in data.items()
        ],
    )
