"""`gatepass org set --require-mfa`, `gatepass user mfa show|reset`, and the password policy
on `gatepass user add|passwd`, against a real SQLite home."""

from __future__ import annotations

import asyncio
import time

from gatepass.app.container import open_container
from gatepass.config import load_settings
from gatepass.core.mfa import totp
from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from tests.cli.test_cli import cli, cli_json, home

__all__ = ["home"]
GOOD = "a long enough password"


def enrol(username: str) -> None:
    async def go() -> None:
        runtime = await open_container(load_settings())
        try:
            user = await runtime.admin.get_user(username)
            assert runtime.auth.mfa is not None
            ctx = RequestContext(surface="test")
            secret = (await runtime.auth.mfa.begin_totp(user.id, ctx)).secret
            await runtime.auth.mfa.confirm_totp(user.id, totp.code_at(secret, time.time()), ctx)
        finally:
            await runtime.close()

    asyncio.run(go())


def audit_events(event: str) -> list[str | None]:
    async def go() -> list[str | None]:
        runtime = await open_container(load_settings())
        try:
            return [e.target for e in await runtime.storage.audit.query(AuditQuery(event=event))]
        finally:
            await runtime.close()

    return asyncio.run(go())


def test_user_mfa_reset_removes_the_factor_and_is_audited(home):
    cli("init", "--admin", "root")
    cli("user", "add", "alice", "--password-stdin", input=GOOD + "\n")
    enrol("alice")
    shown = cli_json("user", "mfa", "show", "alice")
    assert shown == {"username": "alice", "factors": ["totp"], "recovery_codes_left": 10}
    reset = cli_json("user", "mfa", "reset", "alice")
    assert reset == {"username": "alice", "removed": ["totp"]}
    assert cli_json("user", "mfa", "show", "alice")["factors"] == []
    assert audit_events("mfa.reset") == ["alice"]
    again = cli("user", "mfa", "reset", "alice")
    assert again.stdout.strip() == "second factors of alice removed: none"


def test_user_mfa_reset_of_an_unknown_user_is_one_line(home):
    cli("init", "--admin", "root")
    result = cli("user", "mfa", "reset", "nobody", ok=False)
    assert result.exit_code == 1
    assert result.output.strip() == "error: no user nobody"


def test_org_set_require_mfa_and_back(home):
    cli("init", "--admin", "root")
    cli("org", "add", "acme")
    on = cli_json("org", "set", "acme", "--require-mfa")
    assert on == {"uid": "acme", "require_mfa": True, "dialects_without_mfa": False}
    both = cli_json("org", "set", "acme", "--dialects-without-mfa")
    assert both == {"uid": "acme", "require_mfa": True, "dialects_without_mfa": True}
    off = cli("org", "set", "acme", "--no-require-mfa")
    assert off.stdout.strip() == "org acme: require_mfa=false, dialects_without_mfa=true"
    assert audit_events("admin.org.mfa") == ["acme", "acme", "acme"]


def test_org_set_needs_a_change_and_a_known_org(home):
    cli("init", "--admin", "root")
    nothing = cli("org", "set", "acme", ok=False)
    assert nothing.exit_code != 0
    unknown = cli("org", "set", "ghost", "--require-mfa", ok=False)
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: no org ghost"


def test_common_and_short_passwords_are_refused_wherever_set(home):
    cli("init", "--admin", "root")
    common = cli("user", "add", "bob", "--password-stdin", input="password123\n", ok=False)
    assert common.exit_code == 1
    assert common.output.strip() == "error: this password is too common: choose another"
    cli("user", "add", "bob", "--password-stdin", input=GOOD + "\n")
    cli("user", "add", "robert-the-builder", "--password-stdin", input=GOOD + "\n")
    own_name = cli(
        "user",
        "passwd",
        "robert-the-builder",
        "--password-stdin",
        input="Robert-The-Builder\n",
        ok=False,
    )
    assert own_name.output.strip() == (
        "error: a password cannot be the account's name, email or 'gatepass'"
    )
    short = cli("user", "passwd", "bob", "--password-stdin", input="Tr0ub4d\n", ok=False)
    assert short.output.strip().startswith("error: a password must be")
