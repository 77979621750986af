"""The admin API for browser sign-in clients and consents (issue 17): registration with
`grant_types: ["authorization_code"]` and redirect URIs (one-line 400s for bad ones), a public
client without a secret, PATCH replacing the lists it is given, and consents listed and
revoked; the same OidcAdmin as the CLI and console."""

from __future__ import annotations

from typing import Any

from gatepass.core.oidc.clients import OidcAdmin
from gatepass.core.oidc.models import Consent
from tests.api.test_admin_api import admin

__all__ = ["admin"]  # the fixture, used by name

WEB = "https://printer.example.com/callback"


async def test_a_confidential_signin_client_is_registered(client, runtime, admin):
    body = {
        "name": "Photo Printer",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [WEB],
        "post_logout_redirect_uris": ["https://printer.example.com/"],
        "web_origins": ["https://printer.example.com"],
    }
    created = await client.post("/admin/clients", headers=admin, json=body)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["client_secret"].startswith("gp_cs_")
    assert document["grant_types"] == ["authorization_code", "refresh_token"]
    assert document["redirect_uris"] == [WEB]
    assert document["post_logout_redirect_uris"] == ["https://printer.example.com/"]
    assert document["web_origins"] == ["https://printer.example.com"]
    assert (document["public"], document["first_party"]) == (False, False)
    assert document["id_token_signed_response_alg"] == "RS256"
    shown = await client.get(f"/admin/clients/{document['client_id']}", headers=admin)
    assert shown.json() == {k: v for k, v in document.items() if k != "client_secret"}


async def test_a_public_client_has_no_secret(client, runtime, admin):
    body = {
        "name": "Photo CLI",
        "grant_types": ["authorization_code"],
        "redirect_uris": ["http://127.0.0.1/callback"],
        "public": True,
        "first_party": True,
        "id_token_signed_response_alg": "ES256",
    }
    created = await client.post("/admin/clients", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["client_secret"] is None
    assert (created.json()["public"], created.json()["first_party"]) == (True, True)
    stored = await runtime.admin.get_client(created.json()["client_id"])
    assert stored.secret_digest == ""


async def test_bad_registrations_are_400_in_one_line(client, runtime, admin):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"redirect_uris": ["https://x.example/cb#frag"]}, "no fragment"),
        ({"redirect_uris": ["http://x.example/cb"]}, "use https, http on a loopback address"),
        ({}, "needs at least one --redirect-uri"),
        ({"redirect_uris": [WEB], "id_token_signed_response_alg": "none"}, "RS256, ES256"),
        ({"redirect_uris": [WEB], "web_origins": ["https://x.example/"]}, "a web origin is"),
        ({"redirect_uris": [WEB], "metadata": {"a": "b"}}, "metadata is not for"),
    ]
    for extra, message in cases:
        body = {"name": "app", "grant_types": ["authorization_code"], **extra}
        refused = await client.post("/admin/clients", headers=admin, json=body)
        assert refused.status_code == 400, (extra, refused.text)
        assert refused.json()["error"] == "invalid_request"
        assert message in refused.json()["error_description"], refused.text
        assert "\n" not in refused.json()["error_description"]
    machine = {"name": "svc", "redirect_uris": [WEB], "public": True}
    refused = await client.post("/admin/clients", headers=admin, json=machine)
    assert refused.status_code == 400
    assert refused.json()["error_description"] == (
        "redirect_uris, public only with grant_types containing authorization_code"
    )
    assert await runtime.admin.list_clients() == []


async def test_patch_replaces_the_lists_it_is_given(client, runtime, admin):
    made = await OidcAdmin(runtime.admin).add_client(
        "app",
        redirect_uris=[WEB],
        web_origins=["https://printer.example.com"],
        actor="test",
    )
    path = f"/admin/clients/{made.client.client_id}"
    changed = await client.patch(
        path, headers=admin, json={"redirect_uris": ["https://new.example/cb"], "first_party": True}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["redirect_uris"] == ["https://new.example/cb"]
    assert changed.json()["web_origins"] == ["https://printer.example.com"]  # not given: kept
    assert changed.json()["first_party"] is True
    emptied = await client.patch(path, headers=admin, json={"web_origins": [], "name": "app 2"})
    assert (emptied.json()["web_origins"], emptied.json()["name"]) == ([], "app 2")
    refused = await client.patch(path, headers=admin, json={"redirect_uris": []})
    assert refused.status_code == 400
    assert refused.json()["error_description"] == (
        "an authorization_code client needs a redirect URI"
    )


async def test_consents_are_listed_and_revoked(client, runtime, admin, make_user):
    made = await OidcAdmin(runtime.admin).add_client(
        "Photo Printer", redirect_uris=[WEB], actor="t"
    )
    client_id = made.client.client_id
    alice = await make_user("alice")
    now = runtime.admin.clock.now()
    await runtime.storage.put_consent(Consent(alice.id, client_id, frozenset({"openid"}), now))
    listed = await client.get("/admin/consents?user=alice", headers=admin)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert item == {
        "user_id": alice.id,
        "user": "alice",
        "client_id": client_id,
        "client_name": "Photo Printer",
        "scopes": ["openid"],
        "granted_at": item["granted_at"],
    }
    assert item["granted_at"].endswith("Z")
    other = await client.get("/admin/consents?client=nosuchclient", headers=admin)
    assert other.json()["items"] == []
    path = f"/admin/users/alice/consents/{client_id}"
    gone = await client.delete(path, headers=admin)
    assert gone.status_code == 204
    assert (await client.get("/admin/consents", headers=admin)).json()["items"] == []
    again = await client.delete(path, headers=admin)
    assert again.status_code == 404
    assert again.json() == {
        "error": "not_found",
        "error_description": f"alice has not allowed client {client_id}",
    }
    unknown = await client.get("/admin/consents?user=nobody", headers=admin)
    assert unknown.status_code == 404
