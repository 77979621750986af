"""`gatepass doctor` on healthy and broken set-ups, and `gatepass config show`."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from gatepass.adapters.sql.migrate import HEAD_REVISION
from gatepass.cli.doctor import diagnose
from gatepass.cli.main import app
from gatepass.config import load_settings, safe_url
from tests.backends import PG_URL, REDIS_URL, pg_schema, require_service
from tests.system.server import free_port

# Distinct from every real setting, so a leak in any output is unmistakable.
MASTER_KEY = "b7Qz1-ZkUoBqE3YbC2lq8x7WmQ0VfN4hT6sJrD9aKpE"
HS_SECRET = "hs-secret-that-is-long-enough-0123456789"
METRICS_TOKEN = "metrics-token-0123456789"


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def doctor() -> tuple[int, dict[str, tuple[str, str]]]:
    result = invoke("doctor", "--json")
    rows = json.loads(result.stdout)
    return result.exit_code, {row["check"]: (row["status"], row["detail"]) for row in rows}


def statuses(rows: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {name: status for name, (status, _) in rows.items()}


HEALTHY = {
    "configuration": "ok",
    "database": "ok",
    "schema": "ok",
    "master key": "ok",
    "signing keys": "ok",
    "redis": "skip",
    "clock": "ok",
    "dialects": "ok",
    "issuer": "ok",
}


def test_doctor_on_a_healthy_sqlite_deployment(home, monkeypatch):
    monkeypatch.setenv("GATEPASS_DIALECTS", "osais,xpay")
    assert invoke("init").exit_code == 0
    code, rows = doctor()
    assert code == 0
    assert statuses(rows) == HEALTHY
    assert rows["schema"][1] == f"migrated (revision {HEAD_REVISION})"
    assert rows["master key"][1] == f"from {home / 'master.key'}; matches the database"
    # init makes two keys: the ES256 access-token key (the active one named here) and the
    # RS256 key that signs only OpenID Connect ID tokens (issue 17).
    assert rows["signing keys"][1].startswith("2 decrypt; active ")
    assert rows["signing keys"][1].endswith(" (ES256)")
    assert rows["dialects"][1] == (
        "osais: POST /api/v1/public/client/login; xpay: POST /client/authenticate"
    )
    table = invoke("doctor")
    assert table.exit_code == 0
    assert table.stdout.startswith("gatepass doctor\n")
    assert "│ signing keys  │ ok     │" in table.stdout


def test_doctor_without_a_database(home):
    code, rows = doctor()
    assert code == 1
    assert rows["database"] == ("fail", f"no database in {home}: run `gatepass init`")
    assert statuses(rows)["schema"] == "skip"


def test_doctor_on_an_unmigrated_database(home):
    home.mkdir(parents=True)
    sqlite3.connect(home / "gatepass.db").close()  # exists, but has no schema
    code, rows = doctor()
    assert code == 1
    assert rows["schema"] == ("fail", "not initialised: run `gatepass init`")
    assert rows["master key"] == ("skip", "needs the schema")
    assert rows["signing keys"] == ("skip", "needs the schema")


def test_doctor_with_the_wrong_master_key(home, monkeypatch):
    assert invoke("init").exit_code == 0
    monkeypatch.setenv("GATEPASS_MASTER_KEY", MASTER_KEY)
    code, rows = doctor()
    assert code == 1
    assert rows["master key"] == (
        "fail",
        "the key from GATEPASS_MASTER_KEY is not this database's master key",
    )
    assert rows["signing keys"] == ("skip", "needs the master key")


def test_doctor_with_a_signing_key_that_does_not_decrypt(home):
    assert invoke("init").exit_code == 0
    with sqlite3.connect(home / "gatepass.db") as db:
        # Break one of the two keys init makes: doctor names exactly that one.
        (kid,) = db.execute("SELECT kid FROM signing_keys ORDER BY kid").fetchone()
        db.execute("UPDATE signing_keys SET private_encrypted = ? WHERE kid = ?", (b"\0" * 64, kid))
    code, rows = doctor()
    assert code == 1
    assert rows["signing keys"] == ("fail", f"cannot decrypt: {kid}")


def test_doctor_with_an_unreachable_redis(home, monkeypatch):
    assert invoke("init").exit_code == 0
    monkeypatch.setenv("GATEPASS_REDIS_URL", f"redis://:hunter22@127.0.0.1:{free_port()}/0")
    code, rows = doctor()
    assert code == 1
    assert rows["redis"][0] == "fail"
    assert rows["redis"][1].startswith("cannot reach redis://:***@127.0.0.1:")
    assert "hunter22" not in json.dumps(rows)
    assert statuses(rows)["database"] == "ok"


def test_doctor_with_an_unreachable_postgresql(home, monkeypatch):
    port = free_port()
    url = f"postgresql+asyncpg://gp:pg-secret@127.0.0.1:{port}/test"
    monkeypatch.setenv("GATEPASS_DATABASE_URL", url)
    code, rows = doctor()
    assert code == 1
    assert rows["database"] == (
        "fail",
        f"nothing accepts connections on 127.0.0.1:{port} — start PostgreSQL or fix the host "
        "and port in the URL",
    )
    assert "pg-secret" not in json.dumps(rows)
    assert {name: rows[name][0] for name in ("schema", "master key", "signing keys")} == {
        "schema": "skip",
        "master key": "skip",
        "signing keys": "skip",
    }


@pytest.mark.postgres
@pytest.mark.redis
async def test_doctor_on_postgresql_and_redis_compares_clocks(tmp_path, monkeypatch):
    require_service("Redis", "127.0.0.1", 6379)
    async with pg_schema() as schema:
        env = {
            "GATEPASS_HOME": str(tmp_path / "var"),
            "GATEPASS_DATABASE_URL": PG_URL,
            "GATEPASS_DATABASE_SCHEMA": schema,
            "GATEPASS_MASTER_KEY": MASTER_KEY,
            "GATEPASS_REDIS_URL": REDIS_URL,
            "GATEPASS_REDIS_KEY_PREFIX": f"gp_test_{schema}",
        }
        settings = load_settings(env=env)
        from gatepass.app.container import open_container

        runtime = await open_container(settings, initialize=True)
        await runtime.close()
        checks = {check.name: check for check in await diagnose(settings)}
    assert {name: check.status for name, check in checks.items()} == {
        **HEALTHY,
        "redis": "ok",
    }
    assert checks["database"].detail.startswith("postgresql reachable at postgresql+asyncpg://")
    assert checks["clock"].detail.startswith("in step (PostgreSQL ")
    assert ", Redis " in checks["clock"].detail


def test_config_show_masks_secrets(home, monkeypatch):
    monkeypatch.setenv("GATEPASS_MASTER_KEY", MASTER_KEY)
    monkeypatch.setenv("GATEPASS_SIGNING_ALG", "HS256")
    monkeypatch.setenv("GATEPASS_HS256_SECRET", HS_SECRET)
    monkeypatch.setenv("GATEPASS_METRICS_TOKEN", METRICS_TOKEN)
    monkeypatch.setenv("GATEPASS_DATABASE_URL", "postgresql+asyncpg://gp:db-pass-xyz@db/gp")
    monkeypatch.setenv("GATEPASS_REDIS_URL", "redis://:redis-pass-xyz@cache:6379/0")
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["master_key"] == "***"
    assert shown["hs256_secret"] == "***"
    assert shown["metrics_token"] == "***"
    assert shown["database_url"] == "postgresql+asyncpg://gp:***@db/gp"
    assert shown["redis_url"] == "redis://:***@cache:6379/0"
    assert shown["access_token_ttl"] == 900
    assert shown["signing_alg"] == "HS256"
    assert set(shown) == set(load_settings().model_dump())
    table = invoke("config", "show")
    for secret in (MASTER_KEY, HS_SECRET, METRICS_TOKEN, "db-pass-xyz", "redis-pass-xyz"):
        assert secret not in result.stdout
        assert secret not in table.stdout
    assert "│ signing_alg " in table.stdout


def test_config_show_names_each_value_source(home, tmp_path, monkeypatch):
    config = tmp_path / "gatepass.toml"
    config.write_text('audience = "https://api.example.com"\n')
    monkeypatch.setenv("GATEPASS_ACCESS_TOKEN_TTL", "10m")
    result = invoke("--config", str(config), "config", "show")
    assert result.exit_code == 0
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert lines["audience"].split("│")[3].strip() == "file"
    assert lines["access_token_ttl"].split("│")[2].strip() == "600"
    assert lines["access_token_ttl"].split("│")[3].strip() == "env"
    assert lines["issuer"].split("│")[3].strip() == "default"


def test_config_show_with_an_invalid_configuration(home, monkeypatch):
    monkeypatch.setenv("GATEPASS_ACCES_TOKEN_TTL", "5m")
    result = invoke("config", "show")
    assert result.exit_code == 1
    assert (
        result.output == "error: invalid configuration: unknown setting GATEPASS_ACCES_TOKEN_TTL\n"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite+aiosqlite:///var/gatepass.db", "sqlite+aiosqlite:///var/gatepass.db"),
        ("postgresql+asyncpg://gp@db/gp", "postgresql+asyncpg://gp@db/gp"),
        ("postgresql+asyncpg://gp:p%40ss@db/gp", "postgresql+asyncpg://gp:***@db/gp"),
        ("postgresql+asyncpg://db/gp?user=gp&password=x1", "postgresql+asyncpg://db/gp?user=gp&password=***"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
    ],
)  # fmt: skip
def test_safe_url(url, shown):
    assert safe_url(url) == shown
