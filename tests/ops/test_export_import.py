"""Export from SQLite, import into PostgreSQL: the same credentials log in on both, and the
same keys sign. Plus every refusal an import can give."""

from __future__ import annotations

import asyncio
import json
import stat
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from typer.testing import CliRunner

from gatepass.adapters.sql import backup
from gatepass.app.container import open_container
from gatepass.cli.main import app
from gatepass.config import load_settings
from gatepass.core.models import RequestContext
from tests.backends import PG_DSN, PG_URL, require_service

ADMIN_PASSWORD = "admin-Pa55word-e5f6a7"
ALICE_PASSWORD = "alice-Pa55word-b1c2d3"
CTX = RequestContext(ip="198.51.100.9", user_agent="pytest", surface="native")


def cli(*args: str, input: str | None = None, code: int = 0):
    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def cli_json(*args: str, input: str | None = None) -> Any:
    return json.loads(cli(*args, "--json", input=input).stdout)


@pytest.fixture
def source(home: Path) -> dict[str, str]:
    """A SQLite deployment with one of everything; returns the secrets it handed out."""
    cli("init", "--admin", "admin", "--password-stdin", input=ADMIN_PASSWORD + "\n")
    cli("org", "add", "acme", "--name", "Acme")
    cli("role", "add", "reader", "--scope", "docs:read", "--description", "reads docs")
    cli(
        "user", "add", "alice", "--org", "acme", "--role", "reader", "--password-stdin",
        input=ALICE_PASSWORD + "\n",
    )  # fmt: skip
    client = cli_json("client", "add", "reports", "--org", "acme", "--scope", "docs:read",
                      "--client-id", "reports-svc", "--meta", "team=data")  # fmt: skip
    apikey = cli_json("apikey", "add", "--user", "alice", "--name", "ci", "--scope", "docs:read")
    cli("keys", "rotate")
    cli("issuer", "add", "https://idp.example.com", "--audience", "gatepass", "--name", "corp",
        "--jwks-uri", "https://idp.example.com/jwks")  # fmt: skip
    cli("user", "link", "alice", "--issuer", "corp", "--subject", "ext-alice")
    cli("resource", "add", "https://docs.example.com", "--scope", "docs:read", "--name", "Docs")
    return {"client_secret": client["client_secret"], "api_key": apikey["api_key"]}


async def _create_schema() -> str:
    schema = f"gp_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema


async def _drop_schema(schema: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
def pg(monkeypatch: pytest.MonkeyPatch):
    """A fresh PostgreSQL schema; `use()` points GATEPASS_* at it."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = asyncio.run(_create_schema())

    def use() -> None:
        monkeypatch.setenv("GATEPASS_DATABASE_URL", PG_URL)
        monkeypatch.setenv("GATEPASS_DATABASE_SCHEMA", schema)

    try:
        yield use
    finally:
        asyncio.run(_drop_schema(schema))


async def _logins(env_secrets: dict[str, str]) -> dict[str, Any]:
    """Log in every way with the current settings; what the issued tokens say."""
    runtime = await open_container(load_settings())
    try:
        auth = runtime.auth
        common: dict[str, Any] = {"scope": None, "profile": "native", "ctx": CTX}
        by_password = await auth.login_password("alice", ALICE_PASSWORD, **common)
        by_admin = await auth.login_password("admin", ADMIN_PASSWORD, **common)
        by_client = await auth.login_client("reports-svc", env_secrets["client_secret"], **common)
        by_key = await auth.login_api_key("alice", env_secrets["api_key"], **common)
        for_docs = await auth.login_password(
            "alice", ALICE_PASSWORD, **common, resources=["https://docs.example.com"]
        )
        issued = [by_password, by_admin, by_client, by_key]
        for tokens in issued:  # each verifies where it was issued
            await auth.verify_access(tokens.access_token)
        return {
            "principals": [(t.principal.kind.value, t.principal.id, t.scope) for t in issued],
            "kids": sorted(k["kid"] for k in runtime.keys.ring.jwks(runtime.clock.now())["keys"]),
            "active_kid": runtime.keys.ring.active.kid,
            "token": by_password.access_token,
            "external": await runtime.storage.find_linked_user(
                "https://idp.example.com", "ext-alice"
            ),
            "issuers": [i.name for i in await runtime.storage.list_issuers()],
            "resource token": (for_docs.scope, for_docs.session and for_docs.session.resources),
            "instance_id": runtime.info.instance_id,
        }
    finally:
        await runtime.close()


async def _verify_elsewhere(token: str) -> str:
    runtime = await open_container(load_settings())
    try:
        return (await runtime.auth.verify_access(token)).subject
    finally:
        await runtime.close()


@pytest.mark.postgres
def test_sqlite_export_imports_into_postgresql_with_identical_logins(
    source, pg, tmp_path, monkeypatch
):
    # One row per page and per insert: keyset paging (composite keys too) and chunked
    # inserts are exercised on both databases.
    monkeypatch.setattr(backup, "PAGE", 1)
    export = tmp_path / "gatepass-export.json"
    cli("export", str(export))
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    document = json.loads(export.read_text())
    assert document["format"] == "gatepass-export"
    assert document["version"] == 1
    assert document["counts"] == {
        "orgs": 1,
        "roles": 2,
        "users": 2,
        "clients": 1,
        "api_keys": 1,
        "signing_keys": 4,  # two rotations of the access token key and the ID token key
        "trusted_issuers": 1,
        "external_identities": 1,
        "resources": 1,
        "consents": 0,
        "totp_factors": 0,
        "recovery_codes": 0,
        "org_mfa_policies": 0,
        "passkeys": 0,
    }
    # secrets stay secret: no plaintext credential is in the document
    text = export.read_text()
    for secret in (ADMIN_PASSWORD, ALICE_PASSWORD, *source.values()):
        assert secret not in text
    on_sqlite = asyncio.run(_logins(source))
    sqlite_users = cli_json("user", "list")
    sqlite_clients = cli_json("client", "list")

    pg()
    imported = cli_json("import", str(export))
    assert imported == document["counts"]
    # an export of the imported deployment (before anyone logs in) is the same document
    again = tmp_path / "again.json"
    cli("export", str(again))
    assert _without_time(json.loads(again.read_text())) == _without_time(document)
    on_postgres = asyncio.run(_logins(source))
    assert cli_json("user", "list") == sqlite_users
    assert cli_json("client", "list") == sqlite_clients

    assert on_sqlite["resource token"] == ("docs:read", ("https://docs.example.com",))
    keys = ("principals", "kids", "active_kid", "external", "issuers", "resource token")
    for key in (*keys, "instance_id"):
        assert on_postgres[key] == on_sqlite[key], key
    assert len(on_sqlite["kids"]) == 4
    # a token signed before the move is still good after it
    assert asyncio.run(_verify_elsewhere(on_sqlite["token"])) == on_sqlite["principals"][0][1]


def _without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


@pytest.mark.postgres
def test_import_refuses_a_non_empty_database_unless_told_to_replace(source, pg, tmp_path):
    export = tmp_path / "export.json"
    cli("export", str(export))
    pg()
    cli("init")  # a signing key and nothing else
    refused = cli("import", str(export), code=1)
    assert refused.output == (
        "error: the target database is not empty (2 signing_keys): import into a new "
        "database, or pass --replace to delete what is there first\n"
    )
    cli("import", str(export), "--replace")
    assert asyncio.run(_logins(source))["principals"][0][2] == "docs:read"


def test_import_needs_the_same_master_key(source, tmp_path, monkeypatch):
    export = tmp_path / "export.json"
    cli("export", str(export))
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "other"))
    missing = cli("import", str(export), code=1)
    assert missing.output == (
        "error: import needs the master key the export was made with: no master key: set "
        f"GATEPASS_MASTER_KEY or restore {tmp_path / 'other' / 'master.key'} (the key this "
        "database was initialised with)\n"
    )
    monkeypatch.setenv("GATEPASS_MASTER_KEY", "b7Qz1-ZkUoBqE3YbC2lq8x7WmQ0VfN4hT6sJrD9aKpE")
    wrong = cli("import", str(export), code=1)
    assert wrong.output == (
        "error: the master key is not the exported deployment's: set GATEPASS_MASTER_KEY (or "
        "master.key) to the key the export was made with\n"
    )
    assert not (tmp_path / "other" / "gatepass.db").exists()


def test_import_into_a_new_sqlite_home_with_the_key_file(source, tmp_path, monkeypatch):
    export = tmp_path / "export.json"
    cli("export", str(export))
    key = (tmp_path / "var" / "master.key").read_text().strip()
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "copy"))
    monkeypatch.setenv("GATEPASS_MASTER_KEY", key)
    cli("import", str(export))
    assert asyncio.run(_logins(source))["principals"][0][2] == "docs:read"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "export.json is not JSON"),
        ('{"format": "other"}', 'not a gatepass export (expected "format": "gatepass-export")'),
        (
            '{"format": "gatepass-export", "version": 2}',
            "export format version 2 is not supported by this gatepass (it reads version 1); "
            "upgrade gatepass first",
        ),
        (
            '{"format": "gatepass-export", "version": 1}',
            "the export is incomplete: 'tables' or 'master_key_check' is missing",
        ),
        (
            '{"format": "gatepass-export", "version": 1, "master_key_check": "x", '
            '"tables": {"sessions": []}}',
            "the export has unknown table(s): sessions",
        ),
    ],
)
def test_import_rejects_what_is_not_a_usable_export(tmp_path, monkeypatch, content, message):
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.json").write_text(content)
    assert cli("import", "export.json", code=1).output == f"error: {message}\n"


def test_export_refuses_to_overwrite_and_needs_a_database(source, tmp_path):
    export = tmp_path / "export.json"
    export.write_text("keep me")
    assert cli("export", str(export), code=1).output == (
        f"error: {export} exists: choose another file or pass --force\n"
    )
    assert export.read_text() == "keep me"
    cli("export", str(export), "--force")
    assert json.loads(export.read_text())["format"] == "gatepass-export"
    stdout = cli("export", "-").stdout
    assert json.loads(stdout)["counts"]["users"] == 2
