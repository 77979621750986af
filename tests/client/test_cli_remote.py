"""`gatepass login/whoami/logout` and `gatepass remote …` against a real server process, with
the login kept under $XDG_CONFIG_HOME."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.system.server import Server, free_port, gatepass, gatepass_env

pytestmark = pytest.mark.slow


@dataclass
class Remote:
    server: Server
    env: dict[str, str]  # the server's side: local commands on its database
    admin_password: str
    tmp: Path

    def user_env(self, name: str) -> dict[str, str]:
        """A user's shell on another machine: no server settings, their own config dir."""
        env = {k: v for k, v in self.env.items() if not k.startswith("GATEPASS_")}
        env["XDG_CONFIG_HOME"] = str(self.tmp / name / "config")
        env["HOME"] = str(self.tmp / name)
        return env


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    tmp = tmp_path_factory.mktemp("remote")
    port = free_port()
    env = gatepass_env(tmp / "var", GATEPASS_ISSUER=f"http://127.0.0.1:{port}")
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    with Server(env, port=port) as server:
        yield Remote(server, env, json.loads(init.stdout)["password"], tmp)


def run(env: dict[str, str], *args: str, input: str | None = None):
    return gatepass(*args, env=env, input=input)


def login_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "gatepass" / "login.json"


def test_login_with_prompts_then_remote_administration(remote):
    env = remote.user_env("ops")
    url = remote.server.url
    result = run(env, "login", "--url", url, input=f"admin\n{remote.admin_password}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"logged in to {url} as admin\n")
    stored = login_file(env)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert remote.admin_password not in stored.read_text()  # tokens only, never the password

    whoami = run(env, "whoami", "--json")
    assert whoami.returncode == 0, whoami.stderr
    me = json.loads(whoami.stdout)
    assert (me["url"], me["username"], me["kind"], me["scopes"]) == (
        url,
        "admin",
        "user",
        ["gatepass:admin"],
    )
    assert run(env, "whoami").stdout == f"admin (user) at {url}; scopes: gatepass:admin\n"

    added = run(env, "remote", "user", "add", "dora", "--scope", "docs:read", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["scopes"] == ["docs:read"]
    # The server's own CLI sees the user the remote one created.
    shown = json.loads(run(remote.env, "user", "show", "dora", "--json").stdout)
    assert shown["scopes"] == ["docs:read"]
    listed = json.loads(run(env, "remote", "user", "list", "--json").stdout)
    assert [u["username"] for u in listed] == ["admin", "dora"]

    key = json.loads(run(env, "remote", "apikey", "add", "--user", "dora", "--json").stdout)
    assert key["api_key"].startswith("gp_ak_")
    keys = json.loads(run(env, "remote", "apikey", "list", "--user", "dora", "--json").stdout)
    assert [k["id"] for k in keys] == [key["id"]]
    assert run(env, "remote", "apikey", "revoke", key["id"]).returncode == 0

    created = json.loads(run(env, "remote", "client", "add", "ci", "--json").stdout)
    clients = json.loads(run(env, "remote", "client", "list", "--json").stdout)
    assert [c["client_id"] for c in clients] == [created["client_id"]]

    audit = json.loads(
        run(env, "remote", "audit", "--event", "admin.user.create", "--limit", "1",
            "--json").stdout
    )  # fmt: skip
    assert [(e["actor"], e["target"]) for e in audit] == [("admin", "dora")]

    assert run(env, "logout").stdout == f"logged out of {url}\n"
    assert not login_file(env).exists()
    after = run(env, "whoami")
    assert after.returncode == 1
    assert after.stderr == "error: not logged in: run `gatepass login --url URL` first\n"


def test_login_for_scripts_with_env_and_stdin(remote):
    env = remote.user_env("script")
    env.update(GATEPASS_REMOTE_URL=remote.server.url, GATEPASS_REMOTE_USERNAME="admin")
    result = run(env, "login", "--password-stdin", "--json", input=remote.admin_password + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "url": remote.server.url,
        "principal": "admin",
        "scopes": ["gatepass:admin"],
    }
    # The variables are not server settings: local commands in the same shell still work.
    local = {**remote.env, "GATEPASS_REMOTE_URL": remote.server.url}
    assert run(local, "user", "list", "--json").returncode == 0


def test_wrong_password_stores_nothing(remote):
    env = remote.user_env("wrong")
    result = run(
        env, "login", "--url", remote.server.url, "--username", "admin", "--password-stdin",
        input="not the password\n",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (1, "error: invalid credentials\n")
    assert not login_file(env).exists()


def test_a_revoked_login_says_how_to_log_in_again(remote):
    env = remote.user_env("revoked")
    login = run(
        env, "login", "--url", remote.server.url, "--username", "admin", "--password-stdin",
        input=remote.admin_password + "\n",
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    session = json.loads(login_file(env).read_text())["tokens"]["session_id"]
    assert run(remote.env, "sessions", "revoke", session).returncode == 0
    result = run(env, "remote", "user", "list")
    assert result.returncode == 1
    assert result.stderr == (
        "error: your login has ended (the session has been revoked): run `gatepass login` again\n"
    )
    assert not login_file(env).exists()
