"""What every admin API resource shares: the admin check, query parameters, pages, the
response helpers and the `Endpoint` builder with the errors every admin route can answer.

A resource module (`orgs.py`, `users.py`, …) is a mixin of `AdminBase` holding its request
models, its handlers and an `…_endpoints()` method; `api.py` composes them into `AdminApi`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, create_model
from starlette.requests import Request
from starlette.responses import Response

from gatepass.config import parse_duration
from gatepass.core.errors import InvalidToken
from gatepass.core.scopes import ADMIN_SCOPE, require
from gatepass.http.context import Gate
from gatepass.http.native import ErrorResponse, native_errors
from gatepass.http.openapi import Doc, Endpoint, query_param
from gatepass.http.wire import (
    NO_STORE,
    WireError,
    bearer_token,
    json_response,
    parse_json_object,
    read_body,
)

SURFACE = "admin"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class In(BaseModel):
    """Request bodies: exact types, and an unknown member is an error (a typo must not be a
    silently ignored change)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def page_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        name,
        __doc__=f"A page of {item.__name__}; `next` is the path of the following page or null.",
        items=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, None),
    )


# ---------------------------------------------------------------------- query parameters


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise WireError(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def text_param(request: Request, name: str, max_length: int = 320) -> str | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length:
        raise WireError(f"'{name}' is longer than {max_length} characters")
    return value


def bool_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in {"true", "false"}:
        raise WireError(f"'{name}' must be true or false")
    return raw == "true"


def time_param(request: Request, name: str, now: float) -> float | None:
    """An ISO 8601 time (`2025-01-31T12:00:00Z`), or a duration meaning that long ago."""
    raw = text_param(request, name, 64)
    if raw is None:
        return None
    try:
        return now - parse_duration(raw)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise WireError(
            f"'{name}' must be an ISO 8601 time or a duration such as 15m, 24h, 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def next_link(path: str, params: Mapping[str, object]) -> str:
    query = {key: str(value) for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(query)}"


def offset_page(
    request: Request,
    found: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    limit: int,
    offset: int,
    filters: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """A page from up to `limit + 1` items found from `offset` (one more tells if a next
    page exists)."""
    items = [render(item) for item in found[:limit]]
    more = len(found) > limit
    params = {**(filters or {}), "limit": limit, "offset": offset + limit}
    return {"items": items, "next": next_link(request.url.path, params) if more else None}


def window(items: Sequence[Any], limit: int, offset: int) -> Sequence[Any]:
    """The `limit + 1` items from `offset` of a list the store returns whole."""
    return items[offset : offset + limit + 1]


def path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


PAGING = [
    query_param("limit", f"page size, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})"),
    query_param("offset", "items to skip (default 0)"),
]
USER = [path_param("user", "username, email or id")]


# ---------------------------------------------------------------------- handlers

A = TypeVar("A", bound="AdminBase")
AdminHandler = Callable[[A, Request, str], Awaitable[Response]]


def admin_only(handler: AdminHandler[A]) -> Callable[[A, Request], Awaitable[Response]]:
    """Authenticate the admin, then call the handler with the actor's name; render errors."""

    @native_errors
    @functools.wraps(handler)
    async def wrapper(self: A, request: Request) -> Response:
        return await handler(self, request, await self.acting_admin(request))

    return wrapper


def ok(data: Any, status: int = 200) -> Response:
    return json_response(data, status, NO_STORE)


def no_content() -> Response:
    return Response(status_code=204, headers=NO_STORE)


class AdminBase:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.limit = gate.settings.max_body_bytes

    async def acting_admin(self, request: Request) -> str:
        token = bearer_token(request)
        if token is None:
            raise InvalidToken("a Bearer token is required")
        auth = self.gate.auth
        verified = await auth.verify_access(token, required_scopes=[ADMIN_SCOPE])
        principal, _ = await auth.principal_for(verified)
        require(principal.scopes, [ADMIN_SCOPE])
        return principal.name

    async def _json(self, request: Request) -> dict[str, Any]:
        return parse_json_object(await read_body(request, self.limit))

    @staticmethod
    def _page(request: Request) -> tuple[int, int]:
        limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        return limit, int_param(request, "offset", 0, 0, 10**9)


# ---------------------------------------------------------------------- routes

ERRORS = {
    400: Doc("Malformed request", ErrorResponse),
    401: Doc("No valid Bearer token", ErrorResponse, headers=("WWW-Authenticate",)),
    403: Doc("The token lacks the gatepass:admin scope", ErrorResponse),
    413: Doc("Body too large", ErrorResponse),
    503: Doc("Temporarily unavailable", ErrorResponse, headers=("Retry-After",)),
}


def ep(
    path: str,
    method: str,
    handler: Callable[[Request], Awaitable[Response]],
    summary: str,
    status: int,
    model: type[BaseModel] | None = None,
    *,
    request: type[BaseModel] | None = None,
    parameters: Sequence[dict[str, Any]] = (),
    names_one: bool = False,
) -> Endpoint:
    """One admin route: Bearer-only, with the errors every admin route can answer, 404 where
    it names one thing, 409 where it makes or changes one."""
    responses = {status: Doc(summary, model), **ERRORS}
    if "{" in path or names_one:
        responses[404] = Doc("Not found", ErrorResponse)
    if method in {"POST", "PUT", "PATCH"}:
        responses[409] = Doc("Already exists", ErrorResponse)
    return Endpoint(
        path,
        method,
        handler,
        summary,
        SURFACE,
        request=request,
        responses=responses,
        bearer=True,
        parameters=parameters,
    )
