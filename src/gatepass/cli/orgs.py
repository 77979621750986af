"""`gatepass org …` and `gatepass role …`: organizations, and roles (named sets of scopes)."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import (
    JSON_OPTION,
    Scopes,
    actor,
    emit_json,
    fail,
    report,
    run,
    table,
    when,
)
from gatepass.views import org_view, role_view

org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
role_app = typer.Typer(help="Roles (named sets of scopes).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")


def register_roles(app: typer.Typer) -> None:
    app.add_typer(role_app, name="role")


@org_app.command("add")
def org_add(
    uid: str,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an organization."""
    org = run(lambda rt: rt.admin.add_org(uid, name, actor=actor()))
    report(as_json, org_view(org), f"org {org.uid} created")


@org_app.command("list")
def org_list(as_json: bool = JSON_OPTION) -> None:
    """List organizations."""
    orgs = run(lambda rt: rt.admin.list_orgs())
    if as_json:
        emit_json([org_view(o) for o in orgs])
    else:
        table(
            "Organizations",
            ["uid", "name", "created"],
            [(o.uid, o.name, when(o.created_at)) for o in orgs],
        )


@org_app.command("rename")
def org_rename(uid: str, name: str, as_json: bool = JSON_OPTION) -> None:
    """Give an organization a new display name (its uid stays)."""
    org = run(lambda rt: rt.admin.rename_org(uid, name, actor=actor()))
    report(as_json, org_view(org), f"org {org.uid} renamed to {org.name}")


@org_app.command("delete")
def org_delete(uid: str, as_json: bool = JSON_OPTION) -> None:
    """Delete an organization no user, client or issuer refers to."""
    run(lambda rt: rt.admin.delete_org(uid, actor=actor()))
    report(as_json, {"uid": uid, "deleted": True}, f"org {uid} deleted")


# ---------------------------------------------------------------------- roles


@role_app.command("add")
def role_add(
    name: str,
    scope: Scopes = None,
    description: Annotated[str, typer.Option(help="What the role is for.")] = "",
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or replace a role granting scopes."""
    if not scope:
        fail("give at least one --scope")
    role = run(lambda rt: rt.admin.put_role(name, scope, description, actor=actor()))
    report(
        as_json,
        role_view(role),
        f"role {role.name} grants {' '.join(sorted(role.scopes))}",
    )


@role_app.command("list")
def role_list(as_json: bool = JSON_OPTION) -> None:
    """List roles."""
    roles = run(lambda rt: rt.admin.list_roles())
    if as_json:
        emit_json([role_view(r) for r in roles])
    else:
        table(
            "Roles",
            ["name", "scopes", "description"],
            [(r.name, " ".join(sorted(r.scopes)), r.description) for r in roles],
        )


@role_app.command("delete")
def role_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a role."""
    run(lambda rt: rt.admin.delete_role(name, actor=actor()))
    report(as_json, {"name": name, "deleted": True}, f"role {name} deleted")
