"""What the SDK logs in with, and the HTTP requests each kind of credential makes.

Native credentials (password, client secret, API key) log in at `/auth/login` and refresh at
`/auth/refresh`. An external provider's token is exchanged at `/oauth/token` (RFC 8693) by an
API client allowed the token-exchange grant, and its session refreshes there too, with the same
client's authentication. A bare refresh token can only refresh.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx

from gatepass.client.errors import ClientConfigurationError

# The admin API's scope. A server grants it only to a login that asks for it by name
# (`scope=ADMIN_SCOPE`); without `scope`, tokens carry every other scope the principal holds.
ADMIN_SCOPE = "gatepass:admin"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"

ExternalToken = str | Callable[[], str]


@dataclass(frozen=True)
class Credentials:
    """One credential kind. `kind` is one of password, client_secret, api_key,
    refresh_token, external_token, or tokens (restored tokens and nothing to log in with)."""

    kind: str
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_key: str | None = None
    refresh_token: str | None = None
    external_token: ExternalToken | None = None
    scope: str | None = None
    resources: tuple[str, ...] = ()  # RFC 8707: the registered APIs the tokens are for

    @property
    def can_login(self) -> bool:
        return self.kind not in ("refresh_token", "tokens")

    @property
    def has_client_auth(self) -> bool:
        return self.client_id is not None and self.client_secret is not None

    def login_request(self, base_url: str) -> httpx.Request | None:
        if self.kind == "external_token":
            return self._exchange_request(base_url)
        body: dict[str, str] = {}
        if self.kind == "password":
            body = {"username": self.username or "", "password": self.password or ""}
        elif self.kind == "client_secret":
            body = {"client_id": self.client_id or "", "client_secret": self.client_secret or ""}
        elif self.kind == "api_key":
            body = {"username": self.username or "", "api_key": self.api_key or ""}
        else:
            return None
        payload: dict[str, str | list[str]] = dict(body)
        if self.scope:
            payload["scope"] = self.scope
        if self.resources:
            payload["resource"] = list(self.resources)
        return httpx.Request("POST", base_url + "/auth/login", json=payload)

    def refresh_request(self, base_url: str, refresh_token: str) -> httpx.Request:
        if self.kind == "external_token":
            return httpx.Request(
                "POST",
                base_url + "/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                headers={"Authorization": self._basic()},
            )
        return httpx.Request(
            "POST", base_url + "/auth/refresh", json={"refresh_token": refresh_token}
        )

    def _exchange_request(self, base_url: str) -> httpx.Request:
        token = self.external_token
        subject = token() if callable(token) else token
        form: dict[str, str | list[str]] = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject or "",
            "subject_token_type": JWT_TOKEN_TYPE,
        }
        if self.scope:
            form["scope"] = self.scope
        if self.resources:
            form["resource"] = list(self.resources)  # repeated, as RFC 8707 §2 has it
        return httpx.Request(
            "POST",
            base_url + "/oauth/token",
            data=form,
            headers={"Authorization": self._basic()},
        )

    def _basic(self) -> str:
        return basic_authorization(self.client_id or "", self.client_secret or "")


def basic_authorization(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: each part is form-urlencoded before the Basic encoding."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def choose(
    *,
    username: str | None,
    password: str | None,
    client_id: str | None,
    client_secret: str | None,
    api_key: str | None,
    refresh_token: str | None,
    external_token: ExternalToken | None,
    scope: str | None,
    have_tokens: bool,
    resource: str | Sequence[str] | None = None,
) -> Credentials:
    """The one credential kind the arguments describe; a clear error for any other mix."""
    resources = (resource,) if isinstance(resource, str) else tuple(resource or ())
    common: dict[str, Any] = {"scope": scope, "resources": resources}
    if external_token is not None:
        if client_id is None or client_secret is None:
            raise ClientConfigurationError(
                "external_token needs client_id and client_secret: an API client allowed the "
                "token-exchange grant exchanges it at /oauth/token"
            )
        _none(username=username, password=password, api_key=api_key, refresh_token=refresh_token)
        return Credentials(
            "external_token",
            client_id=client_id,
            client_secret=client_secret,
            external_token=external_token,
            **common,
        )
    if username is not None and password is not None:
        _none(client_id=client_id, client_secret=client_secret, api_key=api_key)
        _none(refresh_token=refresh_token)
        return Credentials("password", username=username, password=password, **common)
    if username is not None and api_key is not None:
        _none(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token)
        return Credentials("api_key", username=username, api_key=api_key, **common)
    if client_id is not None and client_secret is not None:
        _none(username=username, password=password, api_key=api_key, refresh_token=refresh_token)
        return Credentials(
            "client_secret", client_id=client_id, client_secret=client_secret, **common
        )
    if refresh_token is not None:
        _none(username=username, password=password, api_key=api_key)
        _none(client_id=client_id, client_secret=client_secret)
        return Credentials("refresh_token", refresh_token=refresh_token, **common)
    partial = [
        name
        for name, value in (
            ("username", username),
            ("password", password),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("api_key", api_key),
        )
        if value is not None
    ]
    if partial or not have_tokens:
        raise ClientConfigurationError(
            "give one of: username and password, client_id and client_secret, username and "
            "api_key, refresh_token, or external_token with client_id and client_secret"
            + (f" (got only {', '.join(partial)})" if partial else "")
        )
    return Credentials("tokens", **common)


def _none(**values: object) -> None:
    extra = [name for name, value in values.items() if value is not None]
    if extra:
        raise ClientConfigurationError(f"unexpected with these credentials: {', '.join(extra)}")
