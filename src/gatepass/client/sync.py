"""`Client`: the blocking SDK, safe to share between threads."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import httpx

from gatepass.client.auth import GatepassAuth
from gatepass.client.base import BaseClient, timeout_of
from gatepass.client.credentials import ExternalToken
from gatepass.client.flow import Flow, T, run_sync
from gatepass.client.tokens import TokenSet, TokenStore


class Client(BaseClient):
    """Log in once; every call after that carries a valid token, renewed as needed.

    Credentials (keyword-only, exactly one kind): `username`+`password`,
    `client_id`+`client_secret`, `username`+`api_key`, `refresh_token`, or
    `external_token` (a string, or a callable returning a fresh one) with the
    `client_id`+`client_secret` of a client allowed the token-exchange grant. `tokens` or a
    `token_store` with saved tokens skip the first login.

    `scope` (space-separated) asks for exactly those scopes; without it, tokens carry every
    scope the principal holds except privileged ones: the admin API needs
    `scope=ADMIN_SCOPE`. `resource` (a URI or several) asks for tokens for registered APIs
    (RFC 8707): their `aud` is the API, and gatepass's own endpoints refuse them.
    """

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_key: str | None = None,
        refresh_token: str | None = None,
        external_token: ExternalToken | None = None,
        scope: str | None = None,
        resource: str | Sequence[str] | None = None,
        tokens: TokenSet | None = None,
        token_store: TokenStore | None = None,
        refresh_margin: float = 30.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        clock: Callable[[], float] = time.time,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        super().__init__(
            base_url,
            username=username,
            password=password,
            client_id=client_id,
            client_secret=client_secret,
            api_key=api_key,
            refresh_token=refresh_token,
            external_token=external_token,
            scope=scope,
            resource=resource,
            tokens=tokens,
            token_store=token_store,
            refresh_margin=refresh_margin,
            retries=retries,
            backoff=backoff,
            max_retry_wait=max_retry_wait,
            clock=clock,
        )
        self._http = httpx.Client(timeout=timeout_of(timeout), transport=transport, verify=verify)
        self.auth = GatepassAuth(self)

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(flow, self._http, self._engine.state)

    def login(self) -> TokenSet:
        """Log in with the credentials now (a new session), and keep the tokens."""
        return self._run(self._engine.login())

    def refresh(self) -> TokenSet:
        """Refresh now (or log in again if the refresh token is no longer good)."""
        return self._run(self._engine.refresh())

    def token(self) -> TokenSet:
        """The current pair, logging in or refreshing first if it is missing or near expiry."""
        return self._run(self._engine.current())

    def logout(self) -> None:
        """End the session on the server and forget the tokens (and the saved copy)."""
        self._run(self._logout_flow())

    def me(self) -> dict[str, Any]:
        """Who the token speaks for (`GET /auth/me`)."""
        body: dict[str, Any] = self._run(self._json_call("GET", "/auth/me"))
        return body

    def introspect(
        self,
        token: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """RFC 7662 introspection of `token` (default: the current access token), which the
        server allows API clients only: authenticates with this client's own
        client_id/client_secret, or the ones given."""
        return self._run(self._introspect_flow(token, client_id, client_secret))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authorized call to the gatepass server (e.g. the admin API); errors raise."""
        return self._run(self._engine.call(self._request(method, path, **kwargs)))

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """`request`, returning the decoded JSON body (None for an empty one)."""
        return self._run(self._json_call(method, path, **kwargs))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
