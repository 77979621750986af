"""`AsyncClient`: the asyncio SDK, safe to share between tasks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import httpx

from gatepass.client.auth import GatepassAuth
from gatepass.client.base import BaseClient, timeout_of
from gatepass.client.credentials import ExternalToken
from gatepass.client.flow import Flow, T, run_async
from gatepass.client.tokens import TokenSet, TokenStore


class AsyncClient(BaseClient):
    """The asynchronous twin of `Client`: the same arguments, the same flows, awaited."""

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
        transport: httpx.AsyncBaseTransport | None = None,
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
        self._http = httpx.AsyncClient(
            timeout=timeout_of(timeout), transport=transport, verify=verify
        )
        self.auth = GatepassAuth(self)

    async def _run(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._http, self._engine.state)

    async def login(self) -> TokenSet:
        return await self._run(self._engine.login())

    async def refresh(self) -> TokenSet:
        return await self._run(self._engine.refresh())

    async def token(self) -> TokenSet:
        return await self._run(self._engine.current())

    async def logout(self) -> None:
        await self._run(self._logout_flow())

    async def me(self) -> dict[str, Any]:
        body: dict[str, Any] = await self._run(self._json_call("GET", "/auth/me"))
        return body

    async def introspect(
        self,
        token: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        return await self._run(self._introspect_flow(token, client_id, client_secret))

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._run(self._engine.call(self._request(method, path, **kwargs)))

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._run(self._json_call(method, path, **kwargs))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
