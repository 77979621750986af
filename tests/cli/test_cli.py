"""CLI round trips: every command against a real SQLite database in a temporary home."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gatepass.app.container import open_container
from gatepass.cli.main import app
from gatepass.config import load_settings
from gatepass.core.models import RequestContext
from gatepass.views import ApiKeyOut, ClientOut


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("GATEPASS_ARGON2_MEMORY_COST", "1024")
    monkeypatch.setenv("GATEPASS_ARGON2_TIME_COST", "1")
    return tmp_path / "var"


def cli(*args: str, input: str | None = None, ok: bool = True):
    result = CliRunner().invoke(app, list(args), input=input)
    if ok:
        assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def cli_json(*args: str, input: str | None = None):
    return json.loads(cli(*args, "--json", input=input).stdout)


def login(method: str, *args: str, scope: str | None = None):
    async def go():
        runtime = await open_container(load_settings())
        try:
            return await getattr(runtime.auth, method)(
                *args, scope=scope, profile="native", ctx=RequestContext()
            )
        finally:
            await runtime.close()

    return asyncio.run(go())


def test_commands_need_an_initialised_home(home):
    result = cli("user", "list", ok=False)
    assert result.exit_code == 1
    assert result.output.startswith("error: no database in ")
    assert "run `gatepass init`" in result.output


def test_init_creates_admin_once(home):
    first = cli_json("init", "--admin", "root")
    assert first["admin"] == "root"
    assert first["admin_created"] is True
    assert len(first["password"]) >= 20
    assert (home / "master.key").stat().st_mode & 0o777 == 0o600
    second = cli_json("init", "--admin", "root")
    assert second["admin_created"] is False
    assert second["password"] is None
    issued = login("login_password", "root", first["password"], scope="gatepass:admin")
    assert issued.scope == "gatepass:admin"  # held through the admin role, granted when named


def test_init_with_password_from_stdin(home):
    result = cli_json("init", "--admin", "root", "--password-stdin", input="a very good password\n")
    assert result["password"] is None
    assert login("login_password", "root", "a very good password").principal.name == "root"


def test_orgs_roles_and_users(home):
    cli("init")
    # --json prints the admin API's view of what was made (issue 16: one shape everywhere).
    org = cli_json("org", "add", "acme", "--name", "Acme Inc")
    assert org == {"uid": "acme", "name": "Acme Inc", "created_at": org["created_at"]}
    assert org["created_at"].endswith("Z")
    duplicate = cli("org", "add", "acme", ok=False)
    assert duplicate.exit_code == 1
    assert duplicate.output.strip() == "error: org acme already exists"
    assert cli_json("role", "add", "editor", "--scope", "docs:write", "--scope", "docs:read") == {
        "name": "editor",
        "scopes": ["docs:read", "docs:write"],
        "description": "",
    }
    assert [r["name"] for r in cli_json("role", "list")] == ["editor"]

    alice = cli_json(
        "user",
        "add",
        "alice",
        "--email",
        "alice@example.com",
        "--display-name",
        "Alice A",
        "--org",
        "acme",
        "--role",
        "editor",
        "--scope",
        "read",
        "--generate-password",
    )
    assert (alice["username"], alice["org"], alice["roles"], alice["scopes"]) == (
        "alice",
        "acme",
        ["editor"],
        ["read"],
    )
    issued = login("login_password", "alice", alice["password"])
    assert issued.scope == "docs:read docs:write read"

    unknown_org = cli("user", "add", "bob", "--org", "nope", "--generate-password", ok=False)
    assert (unknown_org.exit_code, unknown_org.output.strip()) == (1, "error: no org nope")
    unknown_role = cli("user", "add", "bob", "--role", "nope", "--generate-password", ok=False)
    assert unknown_role.output.strip() == "error: no role(s) nope"
    bad_name = cli("user", "add", "bad name", "--generate-password", ok=False)
    assert "invalid user name" in bad_name.output
    no_secret = cli("user", "add", "bob", ok=False, input="")
    assert "--password-stdin, --generate-password or --no-password" in no_secret.output

    cli("user", "add", "bob", "--password-stdin", input="bobs long password\n")
    assert [u["username"] for u in cli_json("user", "list")] == ["alice", "bob"]
    assert [u["username"] for u in cli_json("user", "list", "--org", "acme")] == ["alice"]
    assert cli_json("user", "show", "alice")["email"] == "alice@example.com"
    assert "Alice A" in cli("user", "show", "alice").stdout

    cli("user", "disable", "bob")
    assert cli_json("user", "show", "bob")["disabled"] is True
    cli("user", "enable", "bob")
    cli("user", "passwd", "bob", "--password-stdin", input="another long password\n")
    assert login("login_password", "bob", "another long password").principal.name == "bob"
    cli("user", "delete", "bob")
    missing = cli("user", "show", "bob", ok=False)
    assert missing.output.strip() == "error: no user bob"


def test_clients(home):
    cli("init")
    created = cli_json(
        "client",
        "add",
        "billing",
        "--scope",
        "invoices:read",
        "--meta",
        "domain=https://billing.example",
        "--meta",
        "uriNotify=https://b/n",
    )
    assert set(created) == {*ClientOut.model_fields, "client_secret"}
    assert created["client_secret"].startswith("gp_cs_")
    client_id = created["client_id"]
    listed = cli_json("client", "list")
    assert listed[0]["metadata"] == {
        "domain": "https://billing.example",
        "uriNotify": "https://b/n",
    }
    assert "client_secret" not in json.dumps(listed)
    assert login("login_client", client_id, created["client_secret"]).principal.id == client_id

    rotated = cli_json("client", "rotate-secret", client_id)
    assert rotated["client_secret"] != created["client_secret"]
    from gatepass.core.errors import InvalidCredentials

    with pytest.raises(InvalidCredentials):
        login("login_client", client_id, created["client_secret"])
    assert login("login_client", client_id, rotated["client_secret"]).principal.id == client_id

    cli("client", "disable", client_id)
    assert cli_json("client", "show", client_id)["disabled"] is True
    bad_meta = cli("client", "add", "x", "--meta", "novalue", ok=False)
    assert bad_meta.output.strip() == "error: invalid --meta 'novalue': use KEY=VALUE"


def test_client_with_a_given_id_and_imported_secret(home):
    cli("init")
    token = "a641d628f31b456af7ccc388d140bb0e1fc2"
    created = cli_json(
        "client",
        "add",
        "osais-app",
        "--client-id",
        token,
        "--secret-stdin",
        input="an-existing-secret-value\n",
    )
    assert (created["client_id"], created["client_secret"]) == (token, None)
    assert set(created) == {*ClientOut.model_fields, "client_secret"}
    assert login("login_client", token, "an-existing-secret-value").principal.id == token


def test_api_keys(home):
    cli("init")
    cli("user", "add", "alice", "--scope", "read", "--scope", "write", "--generate-password")
    created = cli_json(
        "apikey", "add", "--user", "alice", "--name", "ci", "--scope", "read", "--expires-in", "30d"
    )
    assert set(created) == {*ApiKeyOut.model_fields, "api_key"}
    assert login("login_api_key", "alice", created["api_key"]).scope == "read"
    listed = cli_json("apikey", "list", "--user", "alice")
    assert [(k["id"], k["name"], k["scopes"], k["revoked_at"]) for k in listed] == [
        (created["id"], "ci", ["read"], None)
    ]
    assert created["api_key"] not in json.dumps(listed)
    too_wide = cli("apikey", "add", "--user", "alice", "--scope", "admin", ok=False)
    assert "cannot hold scopes its user lacks: admin" in too_wide.output
    bad_duration = cli("apikey", "add", "--user", "alice", "--expires-in", "soon", ok=False)
    assert bad_duration.output.strip() == (
        "error: invalid --expires-in 'soon': use e.g. 90s, 15m, 1h, 30d"
    )
    cli("apikey", "revoke", created["id"])
    assert cli_json("apikey", "list")[0]["revoked_at"].endswith("Z")
    again = cli("apikey", "revoke", created["id"], ok=False)
    assert again.output.strip() == f"error: no active API key {created['id']}"


def test_keys_sessions_audit_and_tokens(home):
    cli("init")
    password = cli_json("user", "add", "alice", "--generate-password")["password"]
    issued = login("login_password", "alice", password)
    first = {k["alg"]: k["kid"] for k in cli_json("keys", "list")}
    rotated = cli_json("keys", "rotate")
    listed = cli_json("keys", "list")
    kinds = {k["kid"]: k["status"] for k in listed if k["alg"] == "ES256"}
    assert kinds == {first["ES256"]: "retired", rotated["kid"]: "active"}
    # The ID token key (issue 17) is rotated with it.
    id_keys = {k["kid"]: k["status"] for k in listed if k["alg"] == "RS256"}
    assert id_keys[first["RS256"]] == "retired"
    assert sorted(id_keys.values()) == ["active", "retired"]

    verified = cli_json("token", "verify", issued.access_token)
    assert verified["verified"] is True
    assert verified["claims"]["sid"] == issued.session.id
    decoded = cli_json("token", "decode", issued.refresh_token)
    assert (decoded["verified"], decoded["claims"]["token_use"]) == (False, "refresh")
    assert cli("token", "decode", "garbage", ok=False).output.strip() == "error: not a JWT"

    sessions = cli_json("sessions", "list", "--user", "alice")
    assert [s["id"] for s in sessions] == [issued.session.id]
    cli("sessions", "revoke", issued.session.id)
    assert cli_json("sessions", "list", "--user", "alice") == []
    refused = cli("token", "verify", issued.access_token, ok=False)
    assert refused.output.strip() == "error: the token has been revoked"

    events = cli_json("audit", "--user", "alice", "--since", "1h", "--limit", "10")
    assert [e["event"] for e in events][:2] == ["session.revoke", "login"]
    admin_events = cli_json("audit", "--event", "admin.")
    assert [e["event"] for e in admin_events] == ["admin.user.create"]
    assert "key.rotate" in [e["event"] for e in cli_json("audit", "--event", "key.rotate")]


def test_bad_configuration_is_one_line(home, monkeypatch):
    monkeypatch.setenv("GATEPASS_ACCESS_TOKEN_TTL", "forever")
    result = cli("user", "list", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: invalid configuration: GATEPASS_ACCESS_TOKEN_TTL: invalid duration 'forever': "
        "use e.g. 900, '15m', '72h' or '30d'"
    )


def test_missing_master_key_is_refused(home):
    cli("init")
    (home / "master.key").unlink()
    result = cli("user", "list", ok=False)
    assert "no master key" in result.output


def test_wrong_master_key_is_refused(home, monkeypatch):
    cli("init")
    from gatepass.core.keys import MasterKey

    monkeypatch.setenv("GATEPASS_MASTER_KEY", MasterKey.generate().to_text())
    result = cli("user", "list", ok=False)
    assert "the master key does not match this database" in result.output


def test_issuers_and_identity_links(home):
    cli("init")
    added = cli_json(
        "issuer",
        "add",
        "https://tenant.eu.auth0.com/",
        "--audience",
        "https://api.example.com",
        "--client-id",
        "spa",
        "--algorithm",
        "RS256",
        "--algorithm",
        "ES256",
        "--auto-provision",
    )
    assert (added["name"], added["algorithms"], added["auto_provision"], added["source"]) == (
        "tenant.eu.auth0.com",
        ["RS256", "ES256"],
        True,
        "database",
    )
    assert [i["name"] for i in cli_json("issuer", "list")] == ["tenant.eu.auth0.com"]
    duplicate = cli("issuer", "add", "https://tenant.eu.auth0.com/", "--audience", "x", ok=False)
    assert "already trusted" in duplicate.output
    hmac = cli(
        "issuer", "add", "https://other/", "--audience", "x", "--algorithm", "HS256", ok=False
    )
    assert hmac.output.startswith(
        "error: invalid issuer: algorithms: unsupported algorithm(s) HS256"
    )
    no_audience = cli("issuer", "add", "https://other/", ok=False)
    assert no_audience.exit_code == 2  # a usage error: --audience is required
    cli("user", "add", "alice", "--no-password")
    cli("user", "link", "alice", "--issuer", "tenant.eu.auth0.com", "--subject", "auth0|42")
    taken = cli("user", "add", "bob", "--no-password")
    assert taken.exit_code == 0
    stolen = cli(
        "user", "link", "bob", "--issuer", "tenant.eu.auth0.com", "--subject", "auth0|42", ok=False
    )
    assert stolen.output.strip() == "error: this external identity is linked to another user"
    cli(
        "user",
        "unlink",
        "alice",
        "--issuer",
        "https://tenant.eu.auth0.com/",
        "--subject",
        "auth0|42",
    )
    cli("issuer", "remove", "tenant.eu.auth0.com")
    assert cli_json("issuer", "list") == []
    events = [e["event"] for e in cli_json("audit", "--event", "admin.i")]
    assert events == []  # a prefix must end with "."
    events = [e["event"] for e in cli_json("audit", "--event", "admin.")]
    assert events == [
        "admin.issuer.delete",
        "admin.identity.unlink",
        "admin.user.create",
        "admin.identity.link",
        "admin.user.create",
        "admin.issuer.create",
    ]


def test_config_file_issuers_are_listed_and_cannot_be_removed(home, tmp_path, monkeypatch):
    config = tmp_path / "gatepass.toml"
    config.write_text(
        '[[issuers]]\nissuer = "https://sso.example.com/realms/main"\n'
        'audiences = ["account"]\nname = "keycloak"\n'
    )
    cli("--config", str(config), "init")
    listed = cli_json("--config", str(config), "issuer", "list")
    assert [(i["name"], i["source"]) for i in listed] == [("keycloak", "config")]
    refused = cli("--config", str(config), "issuer", "remove", "keycloak", ok=False)
    assert refused.output.strip() == "error: issuer keycloak is defined in the config file"


def test_client_grants(home):
    cli("init")
    default = cli_json("client", "add", "machine")
    assert cli_json("client", "show", default["client_id"])["grant_types"] == ["client_credentials"]
    app_client = cli_json("client", "add", "app", "--grant", "password", "--grant", "refresh_token")
    assert cli_json("client", "show", app_client["client_id"])["grant_types"] == [
        "password",
        "refresh_token",
    ]
    changed = cli_json("client", "set-grants", app_client["client_id"], "--grant", "none")
    assert changed["grant_types"] == []
    assert cli("client", "set-grants", app_client["client_id"], ok=False).output.strip() == (
        "error: give at least one --grant (or --grant none)"
    )
    unknown = cli("client", "add", "x", "--grant", "implicit", ok=False)
    assert unknown.output.strip() == (
        "error: unknown grant type(s) implicit; choose from authorization_code, "
        "client_credentials, password, refresh_token, token-exchange, jwt-bearer"
    )
    events = cli_json("audit", "--event", "admin.client.")
    assert events[-1]["details"]["grant_types"] == ["client_credentials"]


def test_org_rename_and_delete(home):
    cli("init")
    cli_json("org", "add", "acme", "--name", "Acme Inc")
    renamed = cli_json("org", "rename", "acme", "Acme Corp")
    assert (renamed["uid"], renamed["name"]) == ("acme", "Acme Corp")
    assert [o["name"] for o in cli_json("org", "list")] == ["Acme Corp"]
    cli_json("user", "add", "alice", "--org", "acme", "--no-password")
    refused = cli("org", "delete", "acme", ok=False)
    assert refused.exit_code == 1
    assert refused.output == "error: org acme is still used by users: move or delete them first\n"
    cli("user", "delete", "alice")
    assert cli_json("org", "delete", "acme") == {"uid": "acme", "deleted": True}
    assert cli_json("org", "list") == []
    missing = cli("org", "delete", "acme", ok=False)
    assert missing.output == "error: no org acme\n"
