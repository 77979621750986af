"""`gatepass sessions …`: login sessions, and revoking them."""

from __future__ import annotations

from typing import Annotated

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, report, run, table, when
from gatepass.views import session_view

sessions_app = typer.Typer(help="Login sessions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")


@sessions_app.command("list")
def sessions_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's sessions.")] = None,
    include_ended: Annotated[bool, typer.Option("--all", help="Also revoked/expired.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: bool = JSON_OPTION,
) -> None:
    """List sessions (active ones unless --all)."""
    sessions = run(
        lambda rt: rt.admin.list_sessions(user, active_only=not include_ended, limit=limit)
    )
    if as_json:
        emit_json([session_view(s) for s in sessions])
    else:
        table(
            "Sessions",
            ["id", "subject", "method", "surface", "created", "expires", "ip"],
            [
                (
                    s.id,
                    s.subject,
                    s.auth_method.value,
                    s.profile,
                    when(s.created_at),
                    when(s.expires_at),
                    s.client_ip,
                )
                for s in sessions
            ],
        )


@sessions_app.command("revoke")
def sessions_revoke(session_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke a session: its tokens are refused at once."""
    run(lambda rt: rt.admin.revoke_session(session_id, actor=actor()))
    report(as_json, {"id": session_id, "revoked": True}, f"session {session_id} revoked")
