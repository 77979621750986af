"""`gatepass remote …`: administering a remote server through its admin API, with the login
that `gatepass login` stored (`login.py`). Every command prints, under `--json`, what the admin
API answered.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, TypeVar

import typer

from gatepass.cli.common import (
    JSON_OPTION,
    Scopes,
    emit_json,
    fail,
    out,
    read_secret_stdin,
    report,
    table,
)
from gatepass.cli.login import call
from gatepass.client import (
    Client,
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

Limit = Annotated[int, typer.Option(min=1, max=10_000)]


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")
    remote_app.command("audit")(remote_audit)


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


@remote_user.command("end-sessions")
def user_end_sessions(name: str, as_json: bool = JSON_OPTION) -> None:
    """End every session and browser sign-in of a user, who stays enabled."""
    message = f"every session and browser sign-in of {name} ended"
    _changed("DELETE", f"/admin/users/{name}/sessions", message, as_json)


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
