"""`--json` on every command (issue 15 §2).

The commands are read from the Typer command tree: every leaf must have `--json`, and every
leaf is run once with it on a scratch deployment (SQLite in a temporary home, a real server
for the remote commands), its stdout parsed as exactly one JSON document. `COMMANDS` says how
to run each leaf; a leaf it does not cover fails the test, so a new command cannot be
forgotten. Failures under `--json` are one JSON document too: every leaf is also run with an
unknown option (a usage error) and the remote ones without a login.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from gatepass.app.container import open_container
from gatepass.config import load_settings
from gatepass.core.models import IssuedTokens, RequestContext
from gatepass.core.oidc.models import Consent
from tests.cli.tree import invoke, leaf_commands, option_names
from tests.system.server import Server, free_port, gatepass_env

pytestmark = pytest.mark.slow  # a real server answers the remote commands

PASSWORD = "a long enough password"
ISSUER_URL = "https://idp.example.com/"


def run(
    argv: list[str], env: dict[str, str], input: str | None = None
) -> tuple[int, str, str, BaseException | None]:
    result = invoke(argv, env, input)
    return result.exit_code, result.stdout, result.stderr, result.exception


class Login(NamedTuple):
    username: str
    session_id: str
    access_token: str


@dataclass
class Call:
    """How to run one leaf: its arguments (without --json), stdin, extra environment, and
    what its JSON must say (for the commands that change something)."""

    argv: list[str]
    input: str | None = None
    env: dict[str, str] | None = None
    expect: Callable[[Any], None] | None = None
    serve: bool = False


class World:
    """A scratch deployment with a server, and the objects each command needs, made fresh for
    each command so that the order in which they run does not matter."""

    def __init__(self, tmp: Path, env: dict[str, str], server: Server, admin_password: str):
        self.tmp = tmp
        self.env = env
        self.server = server
        self.admin_password = admin_password
        self._numbers = itertools.count()

    def run(self, *argv: str, input: str | None = None) -> Any:
        """A set-up step, through the CLI itself."""
        code, stdout, stderr, _ = run([*argv, "--json"], self.env, input)
        assert code == 0, stdout + stderr
        return json.loads(stdout)

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._numbers)}"

    def user(self, *scopes: str) -> str:
        name = self.name("user")
        scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
        self.run("user", "add", name, "--password-stdin", *scope_args, input=PASSWORD + "\n")
        return name

    def session(self) -> Login:
        """A user with one session (logged in through the core, as the server would)."""
        username = self.user()
        env = self.env

        async def go() -> IssuedTokens:
            runtime = await open_container(load_settings(env=env))
            try:
                return await runtime.auth.login_password(
                    username, PASSWORD, scope=None, profile="native", ctx=RequestContext()
                )
            finally:
                await runtime.close()

        issued = asyncio.run(go())
        assert issued.session is not None
        return Login(username, issued.session.id, issued.access_token)

    def client(self) -> str:
        return str(self.run("client", "add", self.name("client"))["client_id"])

    def api_key(self) -> str:
        return str(self.run("apikey", "add", "--user", self.user("read"), "--scope", "read")["id"])

    def resource(self) -> str:
        return f"https://{self.name('api')}.example.com"

    def issuer(self) -> str:
        name = self.name("idp")
        self.run("issuer", "add", f"https://{name}.example.com/", "--audience", "api")
        return f"{name}.example.com"

    def remote_login(self) -> None:
        if not (Path(self.env["XDG_CONFIG_HOME"]) / "gatepass" / "login.json").exists():
            self.run(*self.login_argv(), input=self.admin_password + "\n")

    def login_argv(self) -> list[str]:
        return ["login", "--url", self.server.url, "--username", "admin", "--password-stdin"]

    def remote(self, *argv: str, expect: Callable[[Any], None] | None = None) -> Call:
        return self.remote_call(["remote", *argv], expect)

    def remote_call(self, argv: list[str], expect: Callable[[Any], None] | None = None) -> Call:
        self.remote_login()
        return Call(argv, expect=expect)


def _equals(expected: dict[str, Any]) -> Callable[[Any], None]:
    def check(document: Any) -> None:
        assert {key: document.get(key) for key in expected} == expected

    return check


def _user_disable(w: World) -> Call:
    name = w.session().username
    return Call(
        ["user", "disable", name],
        expect=_equals({"username": name, "disabled": True, "sessions_revoked": 1}),
    )


def _user_enable(w: World) -> Call:
    name = w.user()
    w.run("user", "disable", name)
    return Call(["user", "enable", name], expect=_equals({"username": name, "disabled": False}))


def _user_delete(w: World) -> Call:
    name = w.session().username
    return Call(
        ["user", "delete", name],
        expect=_equals({"username": name, "deleted": True, "sessions_revoked": 1}),
    )


def _user_end_sessions(w: World) -> Call:
    name = w.session().username
    return Call(
        ["user", "end-sessions", name],
        expect=_equals({"username": name, "sessions_ended": 1, "browser_sessions_ended": 0}),
    )


def _user_link(w: World) -> Call:
    name, issuer = w.user(), w.issuer()
    return Call(
        ["user", "link", name, "--issuer", issuer, "--subject", "sub-1"],
        expect=_equals({"username": name, "issuer": issuer, "subject": "sub-1", "linked": True}),
    )


def _user_unlink(w: World) -> Call:
    name, issuer = w.user(), w.issuer()
    w.run("user", "link", name, "--issuer", issuer, "--subject", "sub-2")
    return Call(
        ["user", "unlink", name, "--issuer", issuer, "--subject", "sub-2"],
        expect=_equals({"username": name, "issuer": issuer, "subject": "sub-2", "linked": False}),
    )


def _client_disable(w: World) -> Call:
    client_id = w.client()
    return Call(
        ["client", "disable", client_id],
        expect=_equals({"client_id": client_id, "disabled": True, "sessions_revoked": 0}),
    )


def _client_enable(w: World) -> Call:
    client_id = w.client()
    w.run("client", "disable", client_id)
    return Call(
        ["client", "enable", client_id],
        expect=_equals({"client_id": client_id, "disabled": False}),
    )


def _client_delete(w: World) -> Call:
    client_id = w.client()
    return Call(
        ["client", "delete", client_id],
        expect=_equals({"client_id": client_id, "deleted": True, "sessions_revoked": 0}),
    )


def _oidc_client(w: World) -> str:
    return str(
        w.run(
            "client", "add", w.name("app"), "--grant", "authorization_code",
            "--redirect-uri", "https://app.example.com/callback",
        )["client_id"]
    )  # fmt: skip


def _client_set_redirects(w: World) -> Call:
    client_id = _oidc_client(w)

    def check(document: Any) -> None:
        assert document["client_id"] == client_id
        assert document["redirect_uris"] == ["https://app.example.com/cb2"]
        assert document["web_origins"] == ["https://app.example.com"]

    return Call(
        ["client", "set-redirects", client_id, "--redirect-uri", "https://app.example.com/cb2",
         "--web-origin", "https://app.example.com"],
        expect=check,
    )  # fmt: skip


def _consents_revoke(w: World) -> Call:
    client_id = _oidc_client(w)
    username = w.user()
    env = w.env

    async def allow() -> None:
        runtime = await open_container(load_settings(env=env))
        try:
            user = await runtime.admin.get_user(username)
            await runtime.storage.put_consent(
                Consent(user.id, client_id, frozenset({"openid"}), granted_at=time.time())
            )
        finally:
            await runtime.close()

    asyncio.run(allow())
    gone = {"user": username, "client_id": client_id, "revoked": True, "sessions_ended": 0}
    return Call(["consents", "revoke", "--user", username, "--client", client_id],
                expect=_equals(gone))  # fmt: skip


def _role_delete(w: World) -> Call:
    role = w.name("role")
    w.run("role", "add", role, "--scope", "docs:read")
    return Call(["role", "delete", role], expect=_equals({"name": role, "deleted": True}))


def _apikey_revoke(w: World) -> Call:
    key_id = w.api_key()
    return Call(["apikey", "revoke", key_id], expect=_equals({"id": key_id, "revoked": True}))


def _sessions_revoke(w: World) -> Call:
    session_id = w.session().session_id
    return Call(
        ["sessions", "revoke", session_id], expect=_equals({"id": session_id, "revoked": True})
    )


def _issuer_remove(w: World) -> Call:
    name = w.issuer()
    return Call(["issuer", "remove", name], expect=_equals({"name": name, "removed": True}))


def _org_rename(w: World) -> Call:
    uid = w.name("org")
    w.run("org", "add", uid)
    return Call(["org", "rename", uid, "Renamed"], expect=_equals({"uid": uid, "name": "Renamed"}))


def _org_delete(w: World) -> Call:
    uid = w.name("org")
    w.run("org", "add", uid)
    return Call(["org", "delete", uid], expect=_equals({"uid": uid, "deleted": True}))


def _org_set(w: World) -> Call:
    uid = w.name("org")
    w.run("org", "add", uid)
    return Call(
        ["org", "set", uid, "--require-mfa"],
        expect=_equals({"uid": uid, "require_mfa": True, "dialects_without_mfa": False}),
    )


def _resource_delete(w: World) -> Call:
    uri = w.resource()
    w.run("resource", "add", uri)
    return Call(["resource", "delete", uri], expect=_equals({"uri": uri, "deleted": True}))


def _export(w: World) -> Call:
    path = w.tmp / f"{w.name('export')}.json"

    def expect(document: Any) -> None:
        assert document["path"] == str(path)
        assert document["counts"]["users"] >= 1
        assert json.loads(path.read_text())["counts"] == document["counts"]

    return Call(["export", str(path)], expect=expect)


def _import(w: World) -> Call:
    path = w.tmp / f"{w.name('export')}.json"
    w.run("export", str(path))
    master_key = (Path(w.env["GATEPASS_HOME"]) / "master.key").read_text().strip()
    other = {"GATEPASS_HOME": str(w.tmp / w.name("imported")), "GATEPASS_MASTER_KEY": master_key}

    def expect(document: Any) -> None:
        assert document == json.loads(path.read_text())["counts"]

    return Call(["import", str(path)], env=other, expect=expect)


def _user_invite(w: World) -> Call:
    """The invitation goes to a real SMTP server, stopped once the mail is read."""
    from tests.account.smtp import smtp_server

    server = smtp_server()
    mailbox, port = server.__enter__()
    address = f"{w.name('invitee')}@example.test"
    mail = {
        "GATEPASS_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "GATEPASS_SMTP_FROM": "no-reply@example.test",
        "GATEPASS_SMTP_STARTTLS": "off",
    }

    def expect(document: Any) -> None:
        try:
            assert document["username"] == document["invitation_sent_to"] == address
            assert (document["has_password"], document["email_verified"]) == (False, False)
            assert len(mailbox.wait_for(address)) == 1
        finally:
            server.__exit__(None, None, None)

    return Call(["user", "invite", address, "--role", "admin"], env=mail, expect=expect)


def _logout(w: World) -> Call:
    w.remote_login()
    return Call(
        ["logout"],
        expect=_equals({"url": w.server.url, "logged_out": True, "session_ended": True}),
    )


def _login(w: World) -> Call:
    return Call(
        w.login_argv(),
        input=w.admin_password + "\n",
        expect=_equals({"url": w.server.url, "principal": "admin"}),
    )


def _remote_user_disable(w: World) -> Call:
    name = w.user()
    return w.remote("user", "disable", name, expect=_equals({"username": name, "disabled": True}))


def _remote_user_end_sessions(w: World) -> Call:
    name = w.session().username
    ended = {"username": name, "sessions_ended": 1, "browser_sessions_ended": 0}
    return w.remote("user", "end-sessions", name, expect=_equals(ended))


def _remote_user_enable(w: World) -> Call:
    name = w.user()
    w.run("user", "disable", name)
    return w.remote("user", "enable", name, expect=_equals({"username": name, "disabled": False}))


def _remote_user_delete(w: World) -> Call:
    name = w.user()
    return w.remote("user", "delete", name, expect=_equals({"username": name, "deleted": True}))


def _remote_client_delete(w: World) -> Call:
    client_id = w.client()
    gone = {"client_id": client_id, "deleted": True}
    return w.remote("client", "delete", client_id, expect=_equals(gone))


def _remote_apikey_revoke(w: World) -> Call:
    key_id = w.api_key()
    return w.remote("apikey", "revoke", key_id, expect=_equals({"id": key_id, "revoked": True}))


def _remote_sessions_revoke(w: World) -> Call:
    session_id = w.session().session_id
    gone = {"id": session_id, "revoked": True}
    return w.remote("sessions", "revoke", session_id, expect=_equals(gone))


COMMANDS: dict[str, Callable[[World], Call]] = {
    # set-up and serving
    "init": lambda w: Call(["init"]),
    "migrate": lambda w: Call(["migrate"], expect=lambda d: d["revision"]),
    "serve": lambda w: Call(
        ["serve", "--host", "127.0.0.1", "--port", str(free_port())], serve=True
    ),
    # principals
    "org add": lambda w: Call(["org", "add", w.name("org")]),
    "org list": lambda w: Call(["org", "list"]),
    "org rename": _org_rename,
    "org delete": _org_delete,
    "org set": _org_set,
    "role add": lambda w: Call(["role", "add", w.name("role"), "--scope", "docs:read"]),
    "role list": lambda w: Call(["role", "list"]),
    "role delete": _role_delete,
    "user add": lambda w: Call(["user", "add", w.name("user"), "--no-password"]),
    "user list": lambda w: Call(["user", "list"]),
    "user show": lambda w: Call(["user", "show", w.user()]),
    "user disable": _user_disable,
    "user enable": _user_enable,
    "user passwd": lambda w: Call(["user", "passwd", w.user(), "--generate-password"]),
    "user delete": _user_delete,
    "user end-sessions": _user_end_sessions,
    "user mfa show": lambda w: Call(["user", "mfa", "show", w.user()]),
    "user mfa reset": lambda w: Call(["user", "mfa", "reset", w.user()]),
    "user link": _user_link,
    "user invite": _user_invite,
    "user unlink": _user_unlink,
    "client add": lambda w: Call(["client", "add", w.name("client")]),
    "client list": lambda w: Call(["client", "list"]),
    "client show": lambda w: Call(["client", "show", w.client()]),
    "client set-grants": lambda w: Call(["client", "set-grants", w.client(), "--grant", "none"]),
    "client set-redirects": _client_set_redirects,
    "consents list": lambda w: Call(["consents", "list", "--client", _oidc_client(w)]),
    "consents revoke": _consents_revoke,
    "client rotate-secret": lambda w: Call(["client", "rotate-secret", w.client()]),
    "client disable": _client_disable,
    "client enable": _client_enable,
    "client delete": _client_delete,
    "apikey add": lambda w: Call(["apikey", "add", "--user", w.user("read")]),
    "apikey list": lambda w: Call(["apikey", "list"]),
    "apikey revoke": _apikey_revoke,
    "issuer add": lambda w: Call(["issuer", "add", ISSUER_URL, "--audience", "api"]),
    "issuer list": lambda w: Call(["issuer", "list"]),
    "issuer remove": _issuer_remove,
    "resource add": lambda w: Call(["resource", "add", w.resource(), "--scope", "docs:read"]),
    "resource list": lambda w: Call(["resource", "list"]),
    "resource delete": _resource_delete,
    # keys, sessions, audit, tokens
    "keys list": lambda w: Call(["keys", "list"]),
    "keys rotate": lambda w: Call(["keys", "rotate"]),
    "sessions list": lambda w: Call(["sessions", "list"]),
    "sessions revoke": _sessions_revoke,
    "audit": lambda w: Call(["audit", "--limit", "5"]),
    "token decode": lambda w: Call(["token", "decode", w.session().access_token]),
    "token verify": lambda w: Call(["token", "verify", w.session().access_token]),
    # operations
    "config show": lambda w: Call(["config", "show"]),
    "doctor": lambda w: Call(["doctor"]),
    "purge": lambda w: Call(["purge"]),
    "export": _export,
    "import": _import,
    # a remote server
    "login": _login,
    "whoami": lambda w: w.remote_call(["whoami"]),
    "logout": _logout,
    "remote user list": lambda w: w.remote("user", "list"),
    "remote user show": lambda w: w.remote("user", "show", w.user()),
    "remote user add": lambda w: w.remote("user", "add", w.name("user")),
    "remote user disable": _remote_user_disable,
    "remote user enable": _remote_user_enable,
    "remote user delete": _remote_user_delete,
    "remote user end-sessions": _remote_user_end_sessions,
    "remote client list": lambda w: w.remote("client", "list"),
    "remote client show": lambda w: w.remote("client", "show", w.client()),
    "remote client add": lambda w: w.remote("client", "add", w.name("client")),
    "remote client rotate-secret": lambda w: w.remote("client", "rotate-secret", w.client()),
    "remote client delete": _remote_client_delete,
    "remote apikey add": lambda w: w.remote("apikey", "add", "--user", w.user("read")),
    "remote apikey list": lambda w: w.remote("apikey", "list"),
    "remote apikey revoke": _remote_apikey_revoke,
    "remote sessions list": lambda w: w.remote("sessions", "list"),
    "remote sessions revoke": _remote_sessions_revoke,
    "remote audit": lambda w: w.remote("audit", "--limit", "5"),
}

LEAVES = leaf_commands()


def test_every_leaf_has_a_json_option() -> None:
    assert [path for path, command in LEAVES.items() if "--json" not in option_names(command)] == []


def test_the_table_covers_every_leaf_and_nothing_else() -> None:
    assert sorted(LEAVES) == sorted(COMMANDS)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("json")
    port = free_port()
    env = gatepass_env(tmp / "var", GATEPASS_ISSUER=f"http://127.0.0.1:{port}")
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    code, stdout, stderr, _ = run(["init", "--admin", "admin", "--json"], env)
    assert code == 0, stdout + stderr
    with Server(env, port=port) as server:
        yield World(tmp, env, server, json.loads(stdout)["password"])


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_leaf_prints_one_json_document(world: World, path: str) -> None:
    call = COMMANDS[path](world)
    assert " ".join(arg for arg in call.argv if not arg.startswith("-")).startswith(path)
    if call.serve:
        document = _serve_once(call.argv, world.env)
        assert document["pid"] > 0
        return
    env = {**world.env, **(call.env or {})}
    code, stdout, stderr, exception = run([*call.argv, "--json"], env, call.input)
    assert (code, stderr) == (0, ""), stdout + stderr
    assert not isinstance(exception, Exception), exception
    document = json.loads(stdout)  # exactly one document: trailing text fails to parse
    if call.expect is not None:
        call.expect(document)


def _serve_once(argv: list[str], env: dict[str, str]) -> Any:
    """`gatepass serve --json` as a real process: its first line describes what it serves,
    the server answers, and after it stops by its pid stdout still holds just that document."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gatepass.cli.main", *argv, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "serve printed nothing in 30 s"
        document = json.loads(process.stdout.readline())
        assert document["pid"] == process.pid
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{document['url']}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the served URL never became ready"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            rest, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            rest, _ = process.communicate(timeout=5)
    assert rest == ""  # nothing but the one document on stdout
    return document


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_a_usage_error_under_json_is_one_json_document(path: str, tmp_path: Path) -> None:
    env = gatepass_env(tmp_path / "var")
    argv = [*path.split(), "--json", "--qqq"]
    code, stdout, stderr, _ = run(argv, env)
    assert (code, stderr) == (2, "")
    assert json.loads(stdout) == {"error": "No such option: --qqq"}


REMOTE = sorted(path for path in COMMANDS if path.startswith("remote ") or path == "whoami")


@pytest.mark.parametrize("path", REMOTE)
def test_a_remote_command_without_a_login_fails_with_one_json_document(
    path: str, tmp_path: Path
) -> None:
    env = gatepass_env(tmp_path / "var", XDG_CONFIG_HOME=str(tmp_path / "config"))
    needs = {"show": ["x"], "delete": ["x"], "rotate-secret": ["x"], "revoke": ["x"],
             "disable": ["x"], "enable": ["x"], "add": ["x"], "end-sessions": ["x"]}  # fmt: skip
    extra = needs.get(path.split()[-1], [])
    if path == "remote apikey add":
        extra = ["--user", "x"]
    code, stdout, stderr, _ = run([*path.split(), *extra, "--json"], env)
    assert (code, stderr) == (1, ""), stdout + stderr
    assert json.loads(stdout) == {"error": "not logged in: run `gatepass login --url URL` first"}
