"""`Client`: the blocking SDK, safe to share between threads."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from gatepass.client.base import BaseClient
from gatepass.client.errors import ClientConfigurationError
from gatepass.client.flow import Flow, T, run_sync
from gatepass.client.tokens import TokenSet


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

    _http: httpx.Client

    def _connect(
        self,
        timeout: httpx.Timeout,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        verify: bool | str,
    ) -> None:
        # Only a transport of the other kind alone is refused (httpx.MockTransport is both).
        if isinstance(transport, httpx.AsyncBaseTransport) and not isinstance(
            transport, httpx.BaseTransport
        ):
            raise ClientConfigurationError(
                "transport must be an httpx.BaseTransport: Client sends with httpx.Client"
            )
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=verify)

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
