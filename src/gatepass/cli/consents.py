"""`gatepass consents`: what users allowed third-party clients at the consent page (issue 17).

A consent is remembered per user and client until revoked; revoking it also ends the sessions
the client holds for the user, so its tokens stop working and the next sign-in asks again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, report, run, table, when
from gatepass.core.oidc.clients import OidcAdmin
from gatepass.views import consent_view

consents_app = typer.Typer(help="Consents users gave to third-party clients.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(consents_app, name="consents")


@consents_app.command("list")
def consents_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (username, email or id).")
    ] = None,
    client: Annotated[str | None, typer.Option("--client", help="Only this client id.")] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the consents in force."""
    views = run(lambda rt: OidcAdmin(rt.admin).list_consents(user=user, client_id=client))
    if as_json:
        emit_json([consent_view(view) for view in views])
        return
    table(
        "Consents",
        ["user", "client", "scopes", "granted"],
        [
            (
                view.username or view.consent.user_id,
                f"{view.client_name} ({view.consent.client_id})",
                " ".join(sorted(view.consent.scopes)),
                when(view.consent.granted_at),
            )
            for view in views
        ],
    )


@consents_app.command("revoke")
def consents_revoke(
    user: Annotated[str, typer.Option("--user", help="Username, email or id.")],
    client: Annotated[str, typer.Option("--client", help="The client id.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """Forget a consent and end the client's sessions for that user."""
    ended = run(lambda rt: OidcAdmin(rt.admin).revoke_consent(user, client, actor=actor()))
    report(
        as_json,
        {"user": user, "client_id": client, "revoked": True, "sessions_ended": ended},
        f"consent of {user} to {client} revoked; {ended} session(s) ended",
    )
