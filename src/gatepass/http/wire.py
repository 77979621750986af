"""Reading requests and writing responses, shared by every surface.

Bodies are read with a hard size limit while streaming (a lying or absent Content-Length does
not help), JSON is parsed strictly (an object at the top; no duplicate keys, no NaN/Infinity or
numbers beyond a double, no integer longer than `MAX_INTEGER_DIGITS`, no lone surrogate escape
such as `"\\ud800"` — I-JSON, RFC 7493 — and at most `MAX_JSON_DEPTH` levels), and each surface
decides how a `WireError` is shown in its own shape. Values echoed in a `WireError` are cut
to a few dozen characters (`clip`).
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.models import RequestContext
from gatepass.core.text import clip, encodable
from gatepass.http.middleware import request_id_var

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Every signed or unsigned 64-bit integer fits; nothing gatepass reads needs more.
MAX_INTEGER_DIGITS = 20
MAX_JSON_DEPTH = 32
_MAX_FORM_FIELDS = 200


class WireError(Exception):
    """The request could not be read: `status` is 400 or 413, `reason` says why."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise WireError("invalid Content-Length")
        if int(declared) > limit:
            raise WireError(f"request body exceeds {limit} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WireError(f"request body exceeds {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise WireError(f"duplicate JSON member {clip(key)!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise WireError(f"invalid JSON value {name}")


def _bounded_int(text: str) -> int:
    # Checked before int(): a long literal costs quadratic time, and past 4,300 digits
    # Python refuses it with a ValueError.
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise WireError(f"a JSON integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise WireError("a JSON number is out of range")
    return value


def _check_strings_and_depth(value: Any) -> None:
    """Every string (member names too) is valid Unicode, and nesting is bounded. Iterative,
    so that the check itself cannot run out of stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not encodable(item):
                raise WireError("a JSON string holds a lone UTF-16 surrogate")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise WireError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
            members = item.items() if isinstance(item, dict) else enumerate(item)
            for key, member in members:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((member, depth + 1))


def parse_json_object(body: bytes, *, empty_ok: bool = False) -> dict[str, Any]:
    if not body.strip():
        if empty_ok:
            return {}
        raise WireError("the request body must be a JSON object")
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON exchanged between systems is UTF-8
    except UnicodeDecodeError:
        raise WireError("the request body is not UTF-8") from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise WireError("the JSON body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise WireError(f"malformed JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(value, dict):
        raise WireError("the request body must be a JSON object")
    _check_strings_and_depth(value)
    return value


def parse_form(body: bytes, *, reject_duplicates: bool = True) -> dict[str, str]:
    """application/x-www-form-urlencoded, strictly: duplicate parameters are an error."""
    return single_values(form_pairs(body), reject_duplicates=reject_duplicates)


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """A form body's parameters in order, repetitions included."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("the form body is not UTF-8") from None
    if text and "%" not in text and "+" not in text and text.count("&") < _MAX_FORM_FIELDS:
        # Nothing to unquote: what parse_qsl would give, without its per-field unquoting.
        pairs = []
        for field in text.split("&"):
            name, equals, value = field.partition("=")
            if not equals:
                raise WireError("malformed form body")
            pairs.append((name, value))
        return pairs
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError:
        raise WireError("malformed form body") from None


def single_values(
    pairs: list[tuple[str, str]],
    *,
    reject_duplicates: bool = True,
    repeatable: Collection[str] = (),
) -> dict[str, str]:
    """One value per parameter (a repeated one is an error), leaving out those that may
    repeat (`repeatable`, such as RFC 8707's `resource`): the caller reads those itself."""
    result: dict[str, str] = {}
    for key, value in pairs:
        if key in repeatable:
            continue
        if key in result and reject_duplicates:
            raise WireError(f"duplicate parameter {clip(key)!r}")
        result[key] = value
    return result


def bearer_token(
    request: Request, headers: Sequence[str] = ("authorization",), *, case_sensitive: bool = False
) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (or another header name)."""
    for header in headers:
        value = request.headers.get(header)
        if not value:
            continue
        scheme, _, token = value.strip().partition(" ")
        matches = scheme == "Bearer" if case_sensitive else scheme.lower() == "bearer"
        if matches and token.strip():
            return token.strip()
    return None


def client_address(request: Request, trusted_proxies: Sequence[str]) -> str | None:
    peer = request.client.host if request.client else None
    if not trusted_proxies or peer is None or not _is_trusted(peer, trusted_proxies):
        return peer
    # Walk X-Forwarded-For from the right, skipping our own proxies: the first hop that is
    # not one of them is the client (the left-most entries are whatever the client claimed).
    forwarded = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in forwarded if hop]):
        if not _is_trusted(hop, trusted_proxies):
            return hop[:64]
    return peer


def _is_trusted(address: str, trusted: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def request_context(
    request: Request, surface: str, trusted_proxies: Sequence[str], request_id: str | None = None
) -> RequestContext:
    return RequestContext(
        surface=surface,
        ip=client_address(request, trusted_proxies),
        user_agent=request.headers.get("user-agent"),
        request_id=request_id or request_id_var.get(),
    )


def presented_csrf(request: Request) -> str | None:
    """The csrf value of a csrf-bound session: `X-CSRF-Token` header or `csrf` query parameter."""
    return request.headers.get("x-csrf-token") or request.query_params.get("csrf")


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(data), status, headers=dict(headers or {}), media_type="application/json"
    )
