"""`gatepass issuer …` and `gatepass user link/unlink`: trusting external OIDC providers."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from gatepass.app.container import trusted_issuer
from gatepass.cli.common import JSON_OPTION, actor, emit_json, fail, report, run, table
from gatepass.config import IssuerConfig
from gatepass.core.text import clip
from gatepass.views import issuer_view

issuer_app = typer.Typer(help="Trusted external identity providers (OIDC).", no_args_is_help=True)


def register(app: typer.Typer, user_app: typer.Typer) -> None:
    app.add_typer(issuer_app, name="issuer")
    user_app.command("link")(user_link)
    user_app.command("unlink")(user_unlink)


@issuer_app.command("add")
def issuer_add(
    issuer: Annotated[str, typer.Argument(help="The issuer URL, exactly as in the `iss` claim.")],
    audience: Annotated[
        list[str], typer.Option("--audience", help="An accepted `aud` (repeatable).")
    ],
    name: Annotated[
        str | None, typer.Option(help="Short name (default: the issuer's host).")
    ] = None,
    jwks_uri: Annotated[
        str | None, typer.Option("--jwks-uri", help="Skip discovery and use this JWKS.")
    ] = None,
    algorithm: Annotated[
        list[str] | None, typer.Option("--algorithm", help="Accepted alg (default RS256).")
    ] = None,
    leeway: Annotated[str, typer.Option(help="Clock leeway, e.g. 60s.")] = "60s",
    match: Annotated[str, typer.Option(help="Map identities by 'sub' (links) or 'email'.")] = "sub",
    allow: Annotated[
        list[str] | None, typer.Option("--allow", help="Allowed subject (repeatable).")
    ] = None,
    auto_provision: Annotated[
        bool, typer.Option("--auto-provision", help="Create unknown users on first login.")
    ] = False,
    org: Annotated[str | None, typer.Option(help="Org of provisioned users.")] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="Role of provisioned users.")
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="The provider's client id (shown to datarhei clients)."),
    ] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Trust an external OIDC provider's tokens."""
    try:
        config = IssuerConfig.model_validate(
            {
                "issuer": issuer,
                "audiences": audience,
                "name": name,
                "jwks_uri": jwks_uri,
                "algorithms": algorithm or ["RS256"],
                "leeway": leeway,
                "match": match,
                "allowed_subjects": allow or [],
                "auto_provision": auto_provision,
                "provision_org": org,
                "provision_roles": role or [],
                "client_id": client_id,
            }
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        fail(f"invalid issuer: {clip(where)}: {problem['msg'].removeprefix('Value error, ')}")
    added = run(lambda rt: rt.admin.add_issuer(trusted_issuer(config), actor=actor()))
    report(as_json, issuer_view(added), f"issuer {added.name} ({added.issuer}) is trusted")


@issuer_app.command("list")
def issuer_list(as_json: bool = JSON_OPTION) -> None:
    """List trusted issuers, from the config file and the database."""
    issuers = run(lambda rt: rt.admin.list_issuers())
    if as_json:
        emit_json([issuer_view(i) for i in issuers])
    else:
        table(
            "Trusted issuers",
            ["name", "issuer", "audiences", "match", "provision", "source"],
            [
                (
                    i.name,
                    i.issuer,
                    " ".join(i.audiences),
                    i.match,
                    "yes" if i.auto_provision else "no",
                    i.source,
                )
                for i in issuers
            ],
        )


@issuer_app.command("remove")
def issuer_remove(name: str, as_json: bool = JSON_OPTION) -> None:
    """Stop trusting an issuer (added with the CLI; config-file ones live in the file)."""
    run(lambda rt: rt.admin.remove_issuer(name, actor=actor()))
    report(as_json, {"name": name, "removed": True}, f"issuer {name} removed")


def user_link(
    name: str,
    issuer: Annotated[str, typer.Option("--issuer", help="Issuer name or URL.")],
    subject: Annotated[str, typer.Option("--subject", help="The provider's `sub` for this user.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """Let an external identity log in as this user."""
    run(lambda rt: rt.admin.link_identity(name, issuer, subject, actor=actor()))
    report(
        as_json,
        _link_json(name, issuer, subject, linked=True),
        f"{subject} at {issuer} now logs in as {name}",
    )


def user_unlink(
    name: str,
    issuer: Annotated[str, typer.Option("--issuer", help="Issuer name or URL.")],
    subject: Annotated[str, typer.Option("--subject", help="The provider's `sub`.")],
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove an external identity's link to this user."""
    run(lambda rt: rt.admin.unlink_identity(name, issuer, subject, actor=actor()))
    report(
        as_json,
        _link_json(name, issuer, subject, linked=False),
        f"{subject} at {issuer} no longer logs in as {name}",
    )


def _link_json(name: str, issuer: str, subject: str, *, linked: bool) -> dict[str, Any]:
    return {"username": name, "issuer": issuer, "subject": subject, "linked": linked}
