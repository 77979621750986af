"""Browser sign-in clients and consents from the CLI (issue 17): `client add --grant
authorization_code …`, `client set-redirects`, `consents list / revoke`."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from gatepass.app.container import open_container
from gatepass.cli.main import app
from gatepass.config import load_settings
from gatepass.core.oidc.models import Consent

WEB = "https://app.example.com/callback"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("GATEPASS_ARGON2_MEMORY_COST", "1024")
    monkeypatch.setenv("GATEPASS_ARGON2_TIME_COST", "1")
    assert cli("init", "--admin", "root", "--json").exit_code == 0
    return tmp_path / "var"


def cli(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result


def ok(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    """A refused command: exit 1 and exactly one line of output."""
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1, result.output
    return result.output.strip()


def test_a_confidential_web_app_gets_a_secret_and_its_registration(home: Path) -> None:
    created = ok(
        "client", "add", "Photo Printer", "--grant", "authorization_code",
        "--grant", "refresh_token", "--redirect-uri", WEB,
        "--redirect-uri", "https://app.example.com/other",
        "--post-logout-redirect-uri", "https://app.example.com/bye",
        "--web-origin", "https://app.example.com", "--scope", "photos:read",
    )  # fmt: skip
    assert {"client_id", "client_secret"} <= set(created)
    assert created["client_secret"].startswith("gp_cs_")
    shown = ok("client", "show", created["client_id"])
    assert shown["grant_types"] == ["authorization_code", "refresh_token"]
    assert shown["redirect_uris"] == [WEB, "https://app.example.com/other"]
    assert shown["post_logout_redirect_uris"] == ["https://app.example.com/bye"]
    assert shown["web_origins"] == ["https://app.example.com"]
    assert (shown["public"], shown["first_party"]) == (False, False)
    assert shown["id_token_signed_response_alg"] == "RS256"
    assert created["client_secret"] not in json.dumps(shown)


def test_a_public_first_party_native_app_has_no_secret(home: Path) -> None:
    created = ok(
        "client", "add", "CLI", "--grant", "authorization_code",
        "--redirect-uri", "http://127.0.0.1/callback", "--redirect-uri", "com.example.cli:/cb",
        "--public", "--first-party", "--id-token-alg", "ES256",
    )  # fmt: skip
    assert created["client_secret"] is None
    shown = ok("client", "show", created["client_id"])
    assert (shown["public"], shown["first_party"]) == (True, True)
    assert shown["id_token_signed_response_alg"] == "ES256"
    people = cli("client", "add", "CLI 2", "--grant", "authorization_code", "--public",
                 "--redirect-uri", "http://[::1]/cb")  # fmt: skip
    assert people.exit_code == 0
    assert "client_id:" in people.output
    assert "client_secret" not in people.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--redirect-uri", "https://app.example.com/cb#x"], "no fragment"),
        (["--redirect-uri", "/callback"], "use https, http on a loopback address"),
        (["--redirect-uri", "http://app.example.com/cb"], "use https, http on a loopback"),
        (["--redirect-uri", "javascript:alert(1)"], "private-use scheme"),
        ([], "needs at least one --redirect-uri"),
        ([ "--redirect-uri", WEB, "--web-origin", "https://app.example.com/x"],
         "a web origin is scheme://host[:port]"),
        (["--redirect-uri", WEB, "--id-token-alg", "HS256"], "RS256, ES256"),
        (["--redirect-uri", WEB, "--public", "--grant", "client_credentials"],
         "a public client has no secret, so it cannot use client_credentials"),
    ],
)  # fmt: skip
def test_bad_registrations_are_refused_in_one_line(
    home: Path, flags: list[str], message: str
) -> None:
    line = refused("client", "add", "app", "--grant", "authorization_code", *flags)
    assert line.startswith("error: ")
    assert message in line
    assert ok("client", "list") == []


def test_browser_flags_need_the_authorization_code_grant(home: Path) -> None:
    line = refused("client", "add", "svc", "--redirect-uri", WEB, "--public")
    assert line == "error: --redirect-uri, --public only with --grant authorization_code"
    assert ok("client", "list") == []
    machine = ok("client", "add", "svc")  # the machine client of before, unchanged
    assert machine["client_secret"].startswith("gp_cs_")
    assert ok("client", "show", machine["client_id"])["grant_types"] == ["client_credentials"]


def test_set_redirects_replaces_only_the_lists_given(home: Path) -> None:
    client_id = ok(
        "client", "add", "app", "--grant", "authorization_code", "--redirect-uri", WEB,
        "--post-logout-redirect-uri", "https://app.example.com/bye",
        "--web-origin", "https://app.example.com",
    )["client_id"]  # fmt: skip
    changed = ok("client", "set-redirects", client_id, "--redirect-uri", "https://new.example/cb")
    assert changed["redirect_uris"] == ["https://new.example/cb"]
    assert changed["post_logout_redirect_uris"] == ["https://app.example.com/bye"]
    assert changed["web_origins"] == ["https://app.example.com"]
    cleared = ok("client", "set-redirects", client_id, "--no-web-origins",
                 "--no-post-logout-redirect-uris")  # fmt: skip
    assert (cleared["web_origins"], cleared["post_logout_redirect_uris"]) == ([], [])
    assert cleared["redirect_uris"] == ["https://new.example/cb"]
    assert "no fragment" in refused(
        "client", "set-redirects", client_id, "--redirect-uri", "https://x.example/#a"
    )
    assert refused("client", "set-redirects", client_id).startswith("error: give --redirect-uri")
    assert refused("client", "set-redirects", "nosuchclient1", "--redirect-uri", WEB) == (
        "error: no client nosuchclient1"
    )


def test_consents_are_listed_and_revoked(home: Path) -> None:
    client_id = ok("client", "add", "Photo Printer", "--grant", "authorization_code",
                   "--redirect-uri", WEB)["client_id"]  # fmt: skip
    user = ok("user", "add", "alice", "--no-password")

    async def allow() -> None:
        runtime = await open_container(load_settings())
        try:
            consent = Consent(user["id"], client_id, frozenset({"openid", "email"}), time.time())
            await runtime.storage.put_consent(consent)
        finally:
            await runtime.close()

    asyncio.run(allow())
    listed = ok("consents", "list", "--user", "alice")
    assert [(c["user"], c["client_id"], c["client_name"], c["scopes"]) for c in listed] == [
        ("alice", client_id, "Photo Printer", ["email", "openid"])
    ]
    assert ok("consents", "list", "--client", "someoneelse") == []
    table = cli("consents", "list")
    assert "Photo Printer" in table.output
    revoked = ok("consents", "revoke", "--user", "alice", "--client", client_id)
    assert revoked == {"user": "alice", "client_id": client_id, "revoked": True,
                       "sessions_ended": 0}  # fmt: skip
    assert ok("consents", "list") == []
    again = refused("consents", "revoke", "--user", "alice", "--client", client_id)
    assert again == f"error: alice has not allowed client {client_id}"
    assert refused("consents", "list", "--user", "nobody") == "error: no user nobody"
