"""Console pages for browser sign-in clients (issue 17): the "New client" form's sign-in part
(errors shown with the typing kept; a public client gets no secret page), the redirects form on
a client's page, and consents listed on the client's and the user's page, revoked after a
confirmation; all through the same OidcAdmin as the CLI and admin API."""

from __future__ import annotations

import html

from gatepass.core.oidc.clients import OidcAdmin
from gatepass.core.oidc.models import Consent
from tests.api.test_console import admin_user, csrf_of, sign_in

__all__ = ["admin_user"]  # the fixture, used by name

WEB = "https://printer.example.com/callback"


def signin_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "name": "Photo Printer",
        "signin": "yes",
        "client_type": "confidential",
        "redirect_uris": f"{WEB}\n\nhttps://printer.example.com/other\n",
        "post_logout_redirect_uris": "https://printer.example.com/",
        "web_origins": "",
        "refresh": "yes",
        "id_token_alg": "RS256",
        **changes,
    }


async def test_a_confidential_signin_client_is_created_from_the_form(client, runtime, admin_user):
    await sign_in(client)
    form_page = await client.get("/console/clients/new")
    assert "Browser sign-in (OpenID Connect)" in form_page.text
    csrf = await csrf_of(client, "/console/clients/new")

    bad = await client.post(
        "/console/clients", data=signin_form(csrf, redirect_uris="http://printer.example.com/cb")
    )
    assert bad.status_code == 400
    assert "use https, http on a loopback address" in html.unescape(bad.text)
    assert "http://printer.example.com/cb</textarea>" in bad.text  # what was typed is kept
    assert await runtime.admin.list_clients() == []

    created = await client.post("/console/clients", data=signin_form(csrf))
    assert created.status_code == 201
    assert "gp_cs_" in created.text  # the secret, shown once
    [made] = await runtime.admin.list_clients()
    assert made.redirect_uris == (WEB, "https://printer.example.com/other")
    assert made.post_logout_redirect_uris == ("https://printer.example.com/",)
    assert made.grant_types == {"authorization_code", "refresh_token"}
    assert (made.public, made.first_party, made.id_token_signed_response_alg) == (
        False,
        False,
        "RS256",
    )


async def test_a_public_client_gets_no_secret_page(client, runtime, admin_user):
    await sign_in(client)
    csrf = await csrf_of(client, "/console/clients/new")
    form = signin_form(
        csrf, client_type="public", first_party="yes", redirect_uris="http://127.0.0.1/callback",
        web_origins="http://127.0.0.1:5173", id_token_alg="ES256",
    )  # fmt: skip
    created = await client.post("/console/clients", data=form)
    [made] = await runtime.admin.list_clients()
    assert created.status_code == 303
    assert created.headers["location"] == (
        f"/console/clients/{made.client_id}?done=signin-client-created"
    )
    assert (made.public, made.first_party, made.secret_digest) == (True, True, "")
    assert made.web_origins == ("http://127.0.0.1:5173",)
    assert made.id_token_signed_response_alg == "ES256"
    page = await client.get(created.headers["location"])
    assert "It is public: it has no secret" in page.text
    assert "none: a public client (PKCE proves it)" in page.text
    assert "No consents: a first-party client does not ask." in page.text


async def test_redirects_are_edited_on_the_client_page(client, runtime, admin_user):
    made = await OidcAdmin(runtime.admin).add_client(
        "Photo Printer", redirect_uris=[WEB], actor="test"
    )
    client_id = made.client.client_id
    await sign_in(client)
    here = f"/console/clients/{client_id}"
    page = await client.get(here)
    assert f"{WEB}</textarea>" in page.text
    csrf = await csrf_of(client, here)
    action = f"{here}/redirects"
    assert (await client.post(action, data={"redirect_uris": WEB})).status_code == 403  # csrf

    bad = await client.post(
        action, data={"csrf": csrf, "redirect_uris": "https://x.example/cb#f", "web_origins": ""}
    )
    assert bad.status_code == 400
    assert "no fragment" in bad.text
    assert "https://x.example/cb#f</textarea>" in bad.text
    assert (await runtime.admin.get_client(client_id)).redirect_uris == (WEB,)

    saved = await client.post(
        action,
        data={
            "csrf": csrf,
            "redirect_uris": "https://new.example/cb",
            "post_logout_redirect_uris": "",
            "web_origins": "https://new.example",
        },
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"{here}?done=redirects-saved")
    changed = await runtime.admin.get_client(client_id)
    assert changed.redirect_uris == ("https://new.example/cb",)
    assert changed.web_origins == ("https://new.example",)


async def test_consents_are_listed_and_revoked_after_a_confirmation(
    client, runtime, admin_user, make_user
):
    made = await OidcAdmin(runtime.admin).add_client(
        "Photo Printer", redirect_uris=[WEB], actor="test"
    )
    client_id = made.client.client_id
    alice = await make_user("alice")
    await runtime.storage.put_consent(
        Consent(alice.id, client_id, frozenset({"openid", "email"}), runtime.admin.clock.now())
    )
    await sign_in(client)
    for page in (f"/console/clients/{client_id}", "/console/users/alice"):
        shown = await client.get(page)
        assert 'data-consent="' in shown.text
        assert "Photo Printer" in shown.text
    csrf = await csrf_of(client, "/console/users/alice")
    form = {"csrf": csrf, "user": alice.id, "client_id": client_id, "back": "/console/users/alice"}
    asked = await client.post("/console/consents/revoke", data=form)
    assert asked.status_code == 200
    assert f"Revoke the consent {alice.id} gave to client {client_id}?" in asked.text
    assert len(await OidcAdmin(runtime.admin).list_consents()) == 1
    done = await client.post("/console/consents/revoke", data={**form, "confirmed": "yes"})
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/console/users/alice?done=consent-revoked",
    )
    assert await OidcAdmin(runtime.admin).list_consents() == []
    again = await client.post("/console/consents/revoke", data={**form, "confirmed": "yes"})
    assert again.status_code == 404
