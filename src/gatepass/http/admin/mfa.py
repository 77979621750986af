"""Admin API: second factors (issue 18) — a user's (`/admin/users/{user}/mfa`: shown, reset)
and an organization's policy (`/admin/orgs/{uid}/mfa`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import InvalidRequest
from gatepass.core.mfa.admin import MfaAdmin, policy_json
from gatepass.http.admin.base import USER, AdminBase, In, admin_only, ep, ok, path_param
from gatepass.http.native import validated
from gatepass.http.openapi import Endpoint

ORG = [path_param("uid", "the org's uid")]


class UserMfaOut(BaseModel):
    username: str
    factors: list[str] = Field(description="the kinds of confirmed second factor (totp, …)")
    recovery_codes_left: int


class MfaResetOut(BaseModel):
    username: str
    removed: list[str]


class OrgMfaOut(BaseModel):
    uid: str
    require_mfa: bool
    dialects_without_mfa: bool


class OrgMfaChanges(In):
    require_mfa: bool | None = Field(default=None, description="members need a second factor")
    dialects_without_mfa: bool | None = Field(
        default=None, description="members may log in through a dialect with a password alone"
    )


class MfaHandlers(AdminBase):
    def _mfa(self) -> MfaAdmin:
        if self.gate.admin.mfa is None:
            raise InvalidRequest("second factors are not configured")
        return self.gate.admin.mfa

    @admin_only
    async def user_mfa(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.get_user(request.path_params["user"])
        return ok({"username": user.username, **await self._mfa().status(user.id)})

    @admin_only
    async def reset_user_mfa(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.get_user(request.path_params["user"])
        removed = await self._mfa().reset(user.id, actor=actor)
        return ok({"username": user.username, "removed": removed})

    @admin_only
    async def org_mfa(self, request: Request, actor: str) -> Response:
        org = await self.gate.admin.get_org(request.path_params["uid"])
        return ok(_org_mfa(org.uid, policy_json(await self._mfa().org_policy(org.uid))))

    @admin_only
    async def set_org_mfa(self, request: Request, actor: str) -> Response:
        body = validated(OrgMfaChanges, await self._json(request))
        org = await self.gate.admin.get_org(request.path_params["uid"])
        policy = await self._mfa().set_org_policy(
            org.uid,
            require_mfa=body.require_mfa,
            dialects_without_mfa=body.dialects_without_mfa,
            actor=actor,
        )
        return ok(_org_mfa(org.uid, policy_json(policy)))

    def mfa_endpoints(self) -> list[Endpoint]:
        user, org = "/admin/users/{user}/mfa", "/admin/orgs/{uid}/mfa"
        return [
            ep(user, "GET", self.user_mfa, "A user's second factors", 200, UserMfaOut,
               parameters=USER),
            ep(user, "DELETE", self.reset_user_mfa, "Remove every second factor of a user", 200,
               MfaResetOut, parameters=USER),
            ep(org, "GET", self.org_mfa, "An organization's MFA policy", 200, OrgMfaOut,
               parameters=ORG),
            ep(org, "PATCH", self.set_org_mfa, "Change an organization's MFA policy", 200,
               OrgMfaOut, request=OrgMfaChanges, parameters=ORG),
        ]  # fmt: skip


def _org_mfa(uid: str, policy: dict[str, Any]) -> dict[str, Any]:
    return {"uid": uid, **policy}
