"""`gatepass token decode|verify`: look inside a token, or check it like a resource server."""

from __future__ import annotations

from typing import Any

import jwt
import typer

from gatepass.app.container import Container
from gatepass.cli.common import JSON_OPTION, emit_json, fail, out, run, table, when
from gatepass.core.errors import GatepassError

token_app = typer.Typer(help="Inspect tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


@token_app.command("decode")
def decode(token: str, as_json: bool = JSON_OPTION) -> None:
    """Show a JWT's header and claims WITHOUT checking it."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        fail("not a JWT")
    _show({"header": header, "claims": claims, "verified": False}, as_json)


@token_app.command("verify")
def verify(token: str, as_json: bool = JSON_OPTION) -> None:
    """Check signature, issuer, expiry and revocation of an access or refresh token (for
    gatepass or for a registered API: `aud` says which)."""

    async def job(rt: Container) -> dict[str, Any]:
        try:
            verified = await rt.auth.verify_access(token, any_audience=True)
        except GatepassError as access_error:
            try:
                verified, _session = await rt.auth.verify_refresh(token)
            except GatepassError:
                raise access_error from None
        return {"header": {"kid": verified.kid}, "claims": dict(verified.claims), "verified": True}

    _show(run(job), as_json)


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    out.print("verified: yes" if data["verified"] else "[yellow]NOT verified (decoded only)[/]")
    rows = [(f"header.{k}", v) for k, v in data["header"].items()]
    for key, value in data["claims"].items():
        shown = (
            f"{value} ({when(value)})"
            if key in {"exp", "iat", "nbf"} and isinstance(value, int)
            else value
        )
        rows.append((key, shown))
    table("Token", ["field", "value"], rows)
