"""What `Client` and `AsyncClient` share: argument checking and the flows they run."""

from __future__ import annotations

import contextlib
from dataclasses import fields
from typing import Any, Self

import httpx

from gatepass.client.auth import GatepassAuth
from gatepass.client.credentials import basic_authorization, choose
from gatepass.client.errors import (
    ClientConfigurationError,
    InvalidGrant,
    InvalidToken,
    NotLoggedIn,
    error_from_response,
)
from gatepass.client.flow import Engine, Flow, RetryPolicy, TokenState
from gatepass.client.options import ClientOptions, takes_options
from gatepass.client.tokens import TokenSet

DEFAULT_TIMEOUT = 10.0


class BaseClient:
    """The URL and options of a client, its credentials and the token engine; the subclasses
    add the HTTP client (sync or async) and the methods that run the flows with it."""

    @takes_options(ClientOptions)
    def __init__(self, base_url: str, options: ClientOptions) -> None:
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ClientConfigurationError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base
        state = TokenState(base, options.token_store, options.tokens)
        credentials = choose(
            username=options.username,
            password=options.password,
            client_id=options.client_id,
            client_secret=options.client_secret,
            api_key=options.api_key,
            refresh_token=options.refresh_token,
            external_token=options.external_token,
            scope=options.scope,
            have_tokens=state.tokens is not None,
            resource=options.resource,
        )
        self._engine = Engine(
            base,
            credentials,
            state,
            retry=RetryPolicy(
                retries=options.retries, backoff=options.backoff, max_wait=options.max_retry_wait
            ),
            refresh_margin=options.refresh_margin,
            clock=options.clock,
        )
        self._connect(timeout_of(options.timeout), options.transport, options.verify)
        self.auth = GatepassAuth(self)

    @classmethod
    def from_options(cls, base_url: str, options: ClientOptions) -> Self:
        """A client built from options made once (e.g. shared by a sync and an async one)."""
        return cls(base_url, **{item.name: getattr(options, item.name) for item in fields(options)})

    def _connect(
        self,
        timeout: httpx.Timeout,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        verify: bool | str,
    ) -> None:
        """Open the HTTP client this kind of client uses."""
        raise NotImplementedError

    @property
    def tokens(self) -> TokenSet | None:
        """The tokens held now, without any network call (None before the first login)."""
        return self._engine.state.tokens

    @property
    def credential_kind(self) -> str:
        return self._engine.credentials.kind

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        return httpx.Request(method, self._url(path), **kwargs)

    # Flows whose result is plain JSON --------------------------------------------

    def _json_call(self, method: str, path: str, **kwargs: Any) -> Flow[Any]:
        response = yield from self._engine.call(self._request(method, path, **kwargs))
        return response.json() if response.content else None

    def _logout_flow(self) -> Flow[None]:
        engine = self._engine
        if engine.state.tokens is not None:
            # A session that had already ended is logged out all the same.
            with contextlib.suppress(InvalidToken, InvalidGrant, NotLoggedIn):
                yield from engine.call(self._request("POST", "/auth/logout"))
        engine.state.clear()

    def _introspect_flow(
        self, token: str | None, client_id: str | None, client_secret: str | None
    ) -> Flow[dict[str, Any]]:
        credentials = self._engine.credentials
        client_id = client_id or credentials.client_id
        client_secret = client_secret or credentials.client_secret
        if client_id is None or client_secret is None:
            raise ClientConfigurationError(
                "introspection (RFC 7662) is for API clients: pass client_id and client_secret "
                "of a registered client, or use me() to ask who the current token speaks for"
            )
        if token is None:
            token = (yield from self._engine.current()).access_token
        request = self._request(
            "POST",
            "/oauth/introspect",
            data={"token": token},
            headers={"Authorization": basic_authorization(client_id, client_secret)},
        )
        response = yield from self._engine.send(request)
        if not response.is_success:
            raise error_from_response(response)
        body: dict[str, Any] = response.json()
        return body


def timeout_of(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(DEFAULT_TIMEOUT if timeout is None else timeout)
