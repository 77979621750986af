"""Second-factor commands (issue 18): `gatepass org set ORG --require-mfa`, and
`gatepass user mfa show|reset NAME` for an administrator helping a user who lost a device."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gatepass.cli.common import JSON_OPTION, actor, emit_json, fail, report, run, table
from gatepass.core.errors import InvalidRequest
from gatepass.core.mfa.admin import policy_json

mfa_app = typer.Typer(help="A user's second factors.", no_args_is_help=True)


def register(org_app: typer.Typer, user_app: typer.Typer) -> None:
    org_app.command("set")(org_set)
    user_app.add_typer(mfa_app, name="mfa")


def org_set(
    uid: str,
    require_mfa: Annotated[
        bool | None,
        typer.Option(
            "--require-mfa/--no-require-mfa",
            help="Members must have a second factor (asked to enrol one at next sign-in).",
        ),
    ] = None,
    dialects_without_mfa: Annotated[
        bool | None,
        typer.Option(
            "--dialects-without-mfa/--no-dialects-without-mfa",
            help="Members with a second factor may still log in through a dialect "
            "(which cannot ask for one) with their password alone.",
        ),
    ] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set an organization's second-factor policy (what is not given stays as it is)."""
    if require_mfa is None and dialects_without_mfa is None:
        fail("give --require-mfa/--no-require-mfa or --dialects-without-mfa/--no-…")

    async def job(rt: Any) -> Any:
        await rt.admin.get_org(uid)
        return await _mfa(rt).set_org_policy(
            uid,
            require_mfa=require_mfa,
            dialects_without_mfa=dialects_without_mfa,
            actor=actor(),
        )

    policy = run(job)
    data = {"uid": uid, **policy_json(policy)}
    report(
        as_json,
        data,
        f"org {uid}: require_mfa={str(policy.require_mfa).lower()}, "
        f"dialects_without_mfa={str(policy.dialects_without_mfa).lower()}",
    )


@mfa_app.command("show")
def mfa_show(name: str, as_json: bool = JSON_OPTION) -> None:
    """A user's confirmed second factors and unused recovery codes."""
    status = run(lambda rt: _mfa(rt).status(name))
    if as_json:
        emit_json({"username": name, **status})
    else:
        table(
            f"Second factors of {name}",
            ["factors", "recovery codes left"],
            [(" ".join(status["factors"]) or "none", str(status["recovery_codes_left"]))],
        )


@mfa_app.command("reset")
def mfa_reset(name: str, as_json: bool = JSON_OPTION) -> None:
    """Remove every second factor of a user (audited); they enrol again at next sign-in."""
    removed = run(lambda rt: _mfa(rt).reset(name, actor=actor()))
    line = f"second factors of {name} removed: {', '.join(removed) or 'none'}"
    report(as_json, {"username": name, "removed": removed}, line)


def _mfa(rt: Any) -> Any:
    if rt.admin.mfa is None:
        raise InvalidRequest("second factors are not configured")
    return rt.admin.mfa
