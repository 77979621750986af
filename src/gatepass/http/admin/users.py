"""Admin API: users (`/admin/users`), their passwords and whether they may log in."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from gatepass.http.admin.base import (
    PAGING,
    USER,
    AdminBase,
    In,
    admin_only,
    ep,
    no_content,
    offset_page,
    ok,
    page_model,
    text_param,
)
from gatepass.http.native import validated
from gatepass.http.openapi import Endpoint, query_param
from gatepass.views import UserOut, user_view


class NewUser(In):
    username: str = Field(max_length=128)
    password: str | None = Field(default=None, max_length=1024)
    email: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    roles: list[str] = Field(default_factory=list, max_length=64)
    scopes: list[str] = Field(default_factory=list, max_length=256)


class UserChanges(In):
    """Members left out are unchanged; an empty string clears email, display name or org."""

    email: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=256)
    org: str | None = Field(default=None, max_length=128)
    roles: list[str] | None = Field(default=None, max_length=64)
    scopes: list[str] | None = Field(default=None, max_length=256)


class PasswordIn(In):
    password: str = Field(max_length=1024)


class SessionsEnded(BaseModel):
    username: str
    sessions_ended: int
    browser_sessions_ended: int


UserPage = page_model("UserPage", UserOut)


class UserHandlers(AdminBase):
    @admin_only
    async def list_users(self, request: Request, actor: str) -> Response:
        limit, offset = self._page(request)
        org, search = text_param(request, "org"), text_param(request, "search")
        found = await self.gate.admin.list_users(
            org=org, search=search, limit=limit + 1, offset=offset
        )
        filters = {"org": org, "search": search}
        return ok(offset_page(request, found, user_view, limit, offset, filters))

    @admin_only
    async def create_user(self, request: Request, actor: str) -> Response:
        body = validated(NewUser, await self._json(request))
        user = await self.gate.admin.add_user(
            body.username,
            password=body.password,
            email=body.email,
            display_name=body.display_name,
            org=body.org,
            roles=body.roles,
            scopes=body.scopes,
            actor=actor,
        )
        return ok(user_view(user), 201)

    @admin_only
    async def get_user(self, request: Request, actor: str) -> Response:
        return ok(user_view(await self.gate.admin.get_user(request.path_params["user"])))

    @admin_only
    async def update_user(self, request: Request, actor: str) -> Response:
        body = validated(UserChanges, await self._json(request))
        user = await self.gate.admin.update_user(
            request.path_params["user"],
            email=body.email,
            display_name=body.display_name,
            org=body.org,
            roles=body.roles,
            scopes=body.scopes,
            actor=actor,
        )
        return ok(user_view(user))

    @admin_only
    async def disable_user(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.set_user_disabled(
            request.path_params["user"], True, actor=actor
        )
        return ok(user_view(user))

    @admin_only
    async def enable_user(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.set_user_disabled(
            request.path_params["user"], False, actor=actor
        )
        return ok(user_view(user))

    @admin_only
    async def set_password(self, request: Request, actor: str) -> Response:
        body = validated(PasswordIn, await self._json(request))
        await self.gate.admin.set_password(request.path_params["user"], body.password, actor=actor)
        return no_content()

    @admin_only
    async def end_sessions(self, request: Request, actor: str) -> Response:
        user = await self.gate.admin.get_user(request.path_params["user"])
        sessions, signins = await self.gate.admin.end_sessions(user.id, actor=actor)
        return ok(
            {
                "username": user.username,
                "sessions_ended": sessions,
                "browser_sessions_ended": signins,
            }
        )

    @admin_only
    async def delete_user(self, request: Request, actor: str) -> Response:
        await self.gate.admin.delete_user(request.path_params["user"], actor=actor)
        return no_content()

    def user_endpoints(self) -> list[Endpoint]:
        return [
            ep("/admin/users", "GET", self.list_users, "List users", 200, UserPage,
               parameters=[*PAGING, query_param("org", "only this organization"),
                           query_param("search", "part of a username or email")]),
            ep("/admin/users", "POST", self.create_user, "Create a user", 201, UserOut,
               request=NewUser),
            ep("/admin/users/{user}", "GET", self.get_user, "One user", 200, UserOut,
               parameters=USER),
            ep("/admin/users/{user}", "PATCH", self.update_user, "Change a user", 200, UserOut,
               request=UserChanges, parameters=USER),
            ep("/admin/users/{user}", "DELETE", self.delete_user,
               "Delete a user and their API keys; revoke their sessions", 204, parameters=USER),
            ep("/admin/users/{user}/sessions", "DELETE", self.end_sessions,
               "End every session and browser sign-in of a user (who stays enabled)", 200,
               SessionsEnded, parameters=USER),
            ep("/admin/users/{user}/disable", "POST", self.disable_user,
               "Disable a user and revoke their sessions", 200, UserOut, parameters=USER),
            ep("/admin/users/{user}/enable", "POST", self.enable_user, "Enable a user", 200,
               UserOut, parameters=USER),
            ep("/admin/users/{user}/password", "PUT", self.set_password, "Set a password",
               204, request=PasswordIn, parameters=USER),
        ]  # fmt: skip
