"""`AsyncClient`: the asyncio SDK, safe to share between tasks."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from gatepass.client.base import BaseClient
from gatepass.client.errors import ClientConfigurationError
from gatepass.client.flow import Flow, T, run_async
from gatepass.client.tokens import TokenSet


class AsyncClient(BaseClient):
    """The asynchronous twin of `Client`: the same arguments, the same flows, awaited."""

    _http: httpx.AsyncClient

    def _connect(
        self,
        timeout: httpx.Timeout,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        verify: bool | str,
    ) -> None:
        # Only a transport of the other kind alone is refused (httpx.MockTransport is both).
        if isinstance(transport, httpx.BaseTransport) and not isinstance(
            transport, httpx.AsyncBaseTransport
        ):
            raise ClientConfigurationError(
                "transport must be an httpx.AsyncBaseTransport: "
                "AsyncClient sends with httpx.AsyncClient"
            )
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, verify=verify)

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
