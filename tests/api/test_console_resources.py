"""The console page for registered APIs: list, register (errors in the form), remove (csrf and
confirmation, as every console change), all audited with the signed-in admin."""

from __future__ import annotations

from gatepass.core.ports import AuditQuery
from tests.api.test_console import admin_user, csrf_of, sign_in

__all__ = ["admin_user"]  # the fixture, used by name

NOTES = "https://notes.example.com/v1?x=1"


async def test_register_list_and_remove_an_api(client, runtime, admin_user):
    await sign_in(client)
    page = await client.get("/console/resources")
    assert page.status_code == 200
    assert "No APIs registered yet." in page.text
    assert 'href="/console/resources" aria-current="page"' in page.text
    csrf = await csrf_of(client, "/console/resources")

    form = {"csrf": csrf, "uri": "notes.example.com", "scopes": "notes:read", "name": "Notes"}
    bad = await client.post("/console/resources", data=form)
    assert bad.status_code == 400
    assert "is not an absolute URI" in bad.text
    assert 'value="notes.example.com"' in bad.text  # what was typed is kept

    form["uri"] = NOTES
    created = await client.post("/console/resources", data=form)
    assert (created.status_code, created.headers["location"]) == (
        303,
        "/console/resources?done=resource-created",
    )
    [resource] = await runtime.admin.list_resources()
    assert (resource.uri, resource.name, resource.scopes) == (NOTES, "Notes", {"notes:read"})
    listed = await client.get("/console/resources?done=resource-created")
    assert "tokens asked for it now carry its URI as aud" in listed.text
    assert "https://notes.example.com/v1?x=1" in listed.text

    delete = "/console/resources/delete"
    assert 'action="/console/resources/delete"' in listed.text
    refused = await client.post(delete, data={"uri": NOTES, "confirmed": "yes"})
    assert refused.status_code == 403  # no csrf value
    asked = await client.post(delete, data={"csrf": csrf, "uri": NOTES})
    assert asked.status_code == 200
    assert f"Remove the API {NOTES}?" in asked.text
    assert f'name="uri" value="{NOTES}"' in asked.text.replace("&amp;", "&")  # carried along
    assert await runtime.admin.list_resources() == [resource]
    done = await client.post(delete, data={"csrf": csrf, "uri": NOTES, "confirmed": "yes"})
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/console/resources?done=resource-deleted",
    )
    assert await runtime.admin.list_resources() == []
    events = await runtime.admin.audit(AuditQuery(event="admin.resource."))
    assert [(e.event, e.actor, e.target) for e in events] == [
        ("admin.resource.delete", "root", NOTES),
        ("admin.resource.create", "root", NOTES),
    ]
    gone = await client.post(delete, data={"csrf": csrf, "uri": NOTES, "confirmed": "yes"})
    assert gone.status_code == 404


async def test_the_page_needs_a_signed_in_admin(client, admin_user):
    response = await client.get("/console/resources")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Fresources"
