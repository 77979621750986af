"""`gatepass user invite EMAIL`: create a pending user and mail them a link to choose a
password (issue 18). The link itself is never printed: it is the user's secret."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, out, run
from gatepass.core.models import RequestContext
from gatepass.views import iso, user_view


def register(user_app: typer.Typer) -> None:
    user_app.command("invite")(user_invite)


def user_invite(
    email: str,
    org: Annotated[str | None, typer.Option(help="Organization uid.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="A role (repeatable).")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Invite someone by email: they choose their password from the mailed link."""
    invitation = run(
        lambda rt: rt.account.invite(
            email,
            org=org,
            roles=tuple(role or ()),
            actor=actor(),
            ctx=RequestContext(surface="cli"),
        )
    )
    data = {
        **user_view(invitation.user),
        "invitation_sent_to": invitation.user.email,
        "invitation_expires_at": iso(invitation.expires_at),
        "resent": invitation.resent,
    }
    if as_json:
        emit_json(data)
        return
    verb = "sent again" if invitation.resent else "sent"
    out.print(
        f"invitation {verb} to {invitation.user.email} "
        f"(user {invitation.user.username}, link valid until {data['invitation_expires_at']})"
    )
