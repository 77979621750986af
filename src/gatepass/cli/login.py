"""Logging in to a remote gatepass server: `gatepass login`, `whoami`, `logout`, and the stored
login that `gatepass remote …` (`remote.py`) uses.

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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from gatepass.cli.common import JSON_OPTION, emit_json, fail, out, read_secret_stdin, report
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


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("whoami")(whoami)
    app.command("logout")(logout)


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
