"""Every entity view (`gatepass.views.VIEWS`) has one shape on every surface: the members its
renderer writes are the members of its OpenAPI model, of the admin API's answer, and of the
CLI's `--json` output (issue 16). A view added to `VIEWS` without saying where the admin API
and the CLI show it fails `test_every_view_says_where_it_is_shown`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gatepass.app.container import open_container
from gatepass.config import load_settings
from gatepass.core.models import RequestContext
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.views import VIEWS
from tests.cli.tree import invoke
from tests.conftest import PASSWORD

# Where the admin API shows each view: a path, and the item of its answer that is the view.
API: dict[str, tuple[str, bool]] = {
    # view: (path, whether the answer is a page whose first item is the view)
    "org": ("/admin/orgs", True),
    "role": ("/admin/roles", True),
    "user": ("/admin/users/alice", False),
    "client": ("/admin/clients/billing-app", False),
    "api_key": ("/admin/api-keys", True),
    "session": ("/admin/sessions", True),
    "signing_key": ("/admin/signing-keys", True),
    "audit_event": ("/admin/audit", True),
    "dashboard": ("/admin/dashboard", False),
    "issuer": ("/admin/issuers", True),
    "identity": ("/admin/users/alice/identities", True),
    "resource": ("/admin/resources", True),
}

# Where `gatepass … --json` shows each view (a list's first item), or None with the reason.
CLI: dict[str, list[str] | None] = {
    "org": ["org", "list"],
    "role": ["role", "list"],
    "user": ["user", "show", "alice"],
    "client": ["client", "show", "billing-app"],
    "api_key": ["apikey", "list"],
    "session": ["sessions", "list"],
    "signing_key": ["keys", "list"],
    "audit_event": ["audit"],
    "dashboard": None,  # the figures are a console and admin API page; the CLI has no dashboard
    "identity": None,  # `user link` answers with the link it made, not a listing
    "issuer": ["issuer", "list"],
    "resource": ["resource", "list"],
}


def test_every_view_says_where_it_is_shown():
    assert set(API) == set(VIEWS)
    assert set(CLI) == set(VIEWS)


@pytest.mark.parametrize("name", sorted(VIEWS))
async def test_the_openapi_model_is_the_view(name, client):
    _, model = VIEWS[name]
    spec = (await client.get("/openapi.json")).json()
    schema = spec["components"]["schemas"][model.__name__]
    assert list(schema["properties"]) == list(model.model_fields)


async def test_the_admin_api_answers_with_the_views(client, runtime, make_user, make_client):
    await runtime.admin.put_role("admin", [ADMIN_SCOPE], actor="test")
    await make_user("root", roles=["admin"])
    login = await client.post(
        "/auth/login", json={"username": "root", "password": PASSWORD, "scope": ADMIN_SCOPE}
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    await _populate_through_the_core(runtime, make_user, make_client)

    for name, (path, paged) in API.items():
        response = await client.get(path, headers=admin)
        assert response.status_code == 200, (name, response.text)
        document = response.json()["items"][0] if paged else response.json()
        _, model = VIEWS[name]
        assert list(document) == list(model.model_fields), name


async def _populate_through_the_core(runtime, make_user, make_client) -> None:
    from gatepass.app.container import trusted_issuer
    from gatepass.config import IssuerConfig

    await runtime.admin.add_org("acme", None, actor="test")
    await make_user("alice", org="acme", scopes=["read"])
    await make_client("billing-app", client_id="billing-app")
    await runtime.admin.add_api_key("alice", name="ci", scopes=["read"], actor="test")
    await runtime.admin.add_resource("https://api.example.com", actor="test")
    issuer = IssuerConfig.model_validate(
        {"issuer": "https://idp.example.com/", "audiences": ["api"], "name": "idp"}
    )
    await runtime.admin.add_issuer(trusted_issuer(issuer), actor="test")
    await runtime.admin.link_identity("alice", "idp", "sub-1", actor="test")


def test_the_cli_prints_the_views(tmp_path: Path):
    env = {
        "GATEPASS_HOME": str(tmp_path / "var"),
        "GATEPASS_ARGON2_MEMORY_COST": "1024",
        "GATEPASS_ARGON2_TIME_COST": "1",
    }

    def cli(*argv: str, input: str | None = None) -> Any:
        result = invoke([*argv, "--json"], env, input)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    cli("init")
    cli("org", "add", "acme")
    cli("role", "add", "editor", "--scope", "read")
    cli("user", "add", "alice", "--org", "acme", "--scope", "read", "--password-stdin",
        input=PASSWORD + "\n")  # fmt: skip
    cli("client", "add", "billing-app", "--client-id", "billing-app")
    cli("apikey", "add", "--user", "alice", "--scope", "read")
    cli("issuer", "add", "https://idp.example.com/", "--audience", "api")
    cli("resource", "add", "https://api.example.com")
    asyncio.run(_log_in(env, "alice"))

    for name, argv in CLI.items():
        if argv is None:
            continue
        document = cli(*argv)
        if isinstance(document, list):
            document = document[0]
        _, model = VIEWS[name]
        assert sorted(document) == sorted(model.model_fields), name


async def _log_in(env: dict[str, str], username: str) -> None:
    runtime = await open_container(load_settings(env=env))
    try:
        await runtime.auth.login_password(
            username, PASSWORD, scope=None, profile="native", ctx=RequestContext()
        )
    finally:
        await runtime.close()
