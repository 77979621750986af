"""`gatepass user …`: users, their passwords, and whether they may log in."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from gatepass.cli.common import (
    JSON_OPTION,
    Scopes,
    actor,
    emit_json,
    fail,
    out,
    read_secret_stdin,
    report,
    run,
    table,
)
from gatepass.views import user_view

user_app = typer.Typer(help="Users.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


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
    data = user_view(user)
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
        emit_json([user_view(u) for u in users])
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
    data = user_view(user)
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
        {**user_view(user), "sessions_revoked": revoked},
        f"user {name} disabled; their sessions are revoked",
    )


@user_app.command("end-sessions")
def user_end_sessions(name: str, as_json: bool = JSON_OPTION) -> None:
    """End every session and browser sign-in of a user, who stays enabled (a lost device)."""
    sessions, signins = run(lambda rt: rt.admin.end_sessions(name, actor=actor()))
    report(
        as_json,
        {"username": name, "sessions_ended": sessions, "browser_sessions_ended": signins},
        f"{sessions} session(s) and {signins} browser sign-in(s) of {name} ended",
    )


@user_app.command("enable")
def user_enable(name: str, as_json: bool = JSON_OPTION) -> None:
    """Enable a user again."""
    user, _ = run(lambda rt: rt.admin.switch_user(name, False, actor=actor()))
    report(as_json, user_view(user), f"user {name} enabled")


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
