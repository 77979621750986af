"""Client authentication at the OAuth endpoints: `client_secret_basic` and `client_secret_post`.

RFC 6749 §2.3.1: HTTP Basic with the form-urlencoded client id and secret, or both in the
body; never more than one method in a request. A `client_id` in the body beside Basic is
tolerated when it names the same client (some clients always send it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote_plus

from starlette.requests import Request

from gatepass.core.errors import InvalidRequest
from gatepass.core.oauth import ClientCredentials, InvalidClient

MAX_CREDENTIAL_LENGTH = 4096
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
TOKEN_AUTH_METHODS = (*AUTH_METHODS, "none")  # `none`: public clients, with PKCE


def client_credentials(request: Request, form: Mapping[str, str]) -> ClientCredentials | None:
    """What the caller presented, or None when it presented nothing."""
    basic = _basic(request.headers.get("authorization"))
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if body_secret is not None:
            raise InvalidRequest("use one client authentication method, not Basic and the body")
        if body_id is not None and body_id != basic.client_id:
            raise InvalidRequest("client_id does not match the Basic credentials")
        return basic
    if body_secret is None:
        # A public client (issue 17) names itself only: `none` authentication (RFC 8414).
        if body_id is not None and 0 < len(body_id) <= MAX_CREDENTIAL_LENGTH:
            return ClientCredentials(body_id, "")
        return None
    if body_id is None:
        raise InvalidRequest("client_secret was sent without client_id")
    if len(body_id) > MAX_CREDENTIAL_LENGTH or len(body_secret) > MAX_CREDENTIAL_LENGTH:
        raise InvalidClient()
    return ClientCredentials(body_id, body_secret)


def _basic(header: str | None) -> ClientCredentials | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    value = value.strip()
    if not value or len(value) > 2 * MAX_CREDENTIAL_LENGTH:
        raise InvalidClient("malformed Basic credentials")
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise InvalidClient("malformed Basic credentials")
    # RFC 6749 §2.3.1: both were form-urlencoded before base64.
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret))
