"""`GatepassAuth`: an `httpx.Auth` that keeps a client's bearer token valid on any API."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

import httpx

from gatepass.client.flow import Lock, Send, Sleep, Unlock, auth_async, auth_sync

if TYPE_CHECKING:
    from gatepass.client.base import BaseClient


class GatepassAuth(httpx.Auth):
    """Plug a gatepass `Client` or `AsyncClient` into any httpx client calling a protected API:

        api = httpx.Client(base_url="https://api.example.com", auth=gatepass.auth)

    Adds the bearer token; refreshes it shortly before it expires (`refresh_margin`, by the
    token's `exp`); on a 401 refreshes — or logs in again — once and retries once. Concurrent
    requests needing a refresh share one (single-flight). The logic is the client's I/O-free
    flow; httpx sends the refresh requests through the API client's own transport.
    """

    def __init__(self, client: BaseClient) -> None:
        self._engine = client._engine

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """The same flow without the lock or back-off waits, for one caller at a time; httpx
        itself runs `sync_auth_flow` / `async_auth_flow`, which add both."""
        flow = self._engine.authorize(request, read=False)
        try:
            step = next(flow)
            while True:
                value: Any = None
                if isinstance(step, Send):
                    value = yield step.request
                    if step.read:
                        value.read()
                elif not isinstance(step, Lock | Unlock | Sleep):  # pragma: no cover
                    raise TypeError(step)
                step = flow.send(value)
        except StopIteration:
            return

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        return auth_sync(self._engine.authorize(request, read=False), self._engine.state)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return auth_async(self._engine.authorize(request, read=False), self._engine.state)
