"""The SDK's logic as I/O-free generators, and the drivers that run them.

Every operation (log in, refresh, an authorized call) is a generator yielding *steps*: send
this request, take the refresh lock, release it, sleep. It never touches the network, a lock or
the clock's sleep itself, so one implementation serves `Client` (threads), `AsyncClient`
(asyncio) and `GatepassAuth` inside any httpx client, sync or async.

Single-flight refresh: a flow that finds the token stale notes the state's `generation`, takes
the lock, and refreshes only if the generation is unchanged — otherwise another flow refreshed
while it waited and it reuses that result. With refresh-token rotation this matters for
correctness: a second refresh with the same (now retired) token would be taken for theft and
revoke the session.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from gatepass.client.credentials import Credentials
from gatepass.client.errors import (
    ConnectionFailed,
    GatepassError,
    InvalidCredentials,
    InvalidGrant,
    InvalidToken,
    NotLoggedIn,
    error_from_response,
    retry_after_seconds,
)
from gatepass.client.tokens import TokenSet, TokenStore

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    request: httpx.Request
    read: bool = True  # read the body before handing the response back


@dataclass(frozen=True)
class Sleep:
    seconds: float


class Lock:
    """Take the refresh lock."""


class Unlock:
    """Release the refresh lock."""


LOCK, UNLOCK = Lock(), Unlock()
Step = Send | Sleep | Lock | Unlock
Flow = Generator[Step, Any, T]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of 429 and 503 answers, honouring `Retry-After`; exponential back-off without it.
    A `Retry-After` longer than `max_wait` is not waited for: the error is raised at once."""

    retries: int = 2
    backoff: float = 0.5
    max_wait: float = 30.0

    def delay(self, response: httpx.Response, attempt: int) -> float | None:
        if response.status_code not in (429, 503) or attempt >= self.retries:
            return None
        hinted = retry_after_seconds(response)
        wait = hinted if hinted is not None else self.backoff * (2**attempt)
        return wait if wait <= self.max_wait else None


class TokenState:
    """The tokens one client holds, shared by everything that uses them, and the locks that
    make their renewal single-flight."""

    def __init__(self, base_url: str, store: TokenStore | None, tokens: TokenSet | None) -> None:
        self.base_url = base_url
        self.store = store
        if tokens is None and store is not None:
            tokens = store.load(base_url)
        self.tokens = tokens
        self.generation = 0
        self.failure: GatepassError | None = None
        self.suspect: int | None = None  # a generation whose access token got a 401
        self.thread_lock = threading.Lock()
        self._guard = threading.Lock()
        self._async_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def set(self, tokens: TokenSet) -> None:
        self.tokens, self.failure = tokens, None
        self.generation += 1
        if self.store is not None:
            self.store.save(self.base_url, tokens)

    def fail(self, error: GatepassError) -> None:
        """The tokens are dead (revoked, expired, credentials refused): forget them."""
        self.tokens, self.failure = None, error
        self.generation += 1
        if self.store is not None:
            self.store.clear()

    def clear(self) -> None:
        self.tokens, self.failure = None, None
        self.generation += 1
        if self.store is not None:
            self.store.clear()

    def async_lock(self) -> asyncio.Lock:
        """An asyncio lock for the running loop (asyncio locks belong to one loop)."""
        loop = asyncio.get_running_loop()
        with self._guard:
            if self._async_lock is None or self._async_lock[0] is not loop:
                self._async_lock = (loop, asyncio.Lock())
            return self._async_lock[1]


class Engine:
    """The flows of one client: its credentials, tokens, base URL and policies."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        state: TokenState,
        *,
        retry: RetryPolicy,
        refresh_margin: float,
        clock: Callable[[], float],
    ) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.state = state
        self.retry = retry
        self.refresh_margin = refresh_margin
        self.clock = clock

    # ----------------------------------------------------------------- plain sends

    def send(self, request: httpx.Request, *, read: bool = True) -> Flow[httpx.Response]:
        """Send, retrying 429/503 as the policy allows."""
        attempt = 0
        while True:
            response: httpx.Response = yield Send(request, read)
            wait = self.retry.delay(response, attempt)
            if wait is None:
                return response
            attempt += 1
            yield Sleep(wait)

    def _tokens_from(self, response: httpx.Response) -> TokenSet:
        tokens = TokenSet.from_response(response.json(), self.clock())
        self.state.set(tokens)
        return tokens

    # ----------------------------------------------------------------- renewal

    def login(self) -> Flow[TokenSet]:
        """Log in with the credentials (outside the single-flight lock: an explicit call)."""
        yield LOCK
        tokens = yield from self._login_locked()
        yield UNLOCK
        return tokens

    def refresh(self) -> Flow[TokenSet]:
        """Refresh now, whatever the expiry (log in again if the refresh token is dead)."""
        yield LOCK
        tokens = yield from self._renew_locked()
        yield UNLOCK
        return tokens

    def renew(self, seen_generation: int) -> Flow[TokenSet]:
        """Single-flight renewal: refresh (or log in) unless another flow has done so since
        `seen_generation`, in which case its result is reused."""
        yield LOCK
        state = self.state
        if state.generation != seen_generation and state.tokens is not None:
            tokens = state.tokens
        elif state.generation != seen_generation and state.failure is not None:
            raise state.failure.clone()  # the renewal we waited for failed: so do we
        else:
            tokens = yield from self._renew_locked()
        yield UNLOCK
        return tokens

    def _renew_locked(self) -> Flow[TokenSet]:
        current = self.state.tokens
        if current is not None and current.refresh_token is not None:
            request = self.credentials.refresh_request(self.base_url, current.refresh_token)
            response = yield from self.send(request)
            if response.is_success:
                return self._tokens_from(response)
            error = error_from_response(response)
            dead = isinstance(error, InvalidGrant | InvalidToken)
            if not (dead and self.credentials.can_login):
                if dead:
                    self.state.fail(error)
                raise error
        return (yield from self._login_locked())

    def _login_locked(self) -> Flow[TokenSet]:
        request = self.credentials.login_request(self.base_url)
        seed = self.credentials.refresh_token
        if request is None and seed is not None and self.state.generation == 0:
            # A client made from a bare refresh token "logs in" by using it, once.
            request = self.credentials.refresh_request(self.base_url, seed)
        if request is None:
            failure = self.state.failure
            if failure is not None:
                raise failure.clone()
            raise NotLoggedIn("no valid tokens and no credentials to log in with")
        response = yield from self.send(request)
        if response.is_success:
            return self._tokens_from(response)
        error = error_from_response(response)
        if isinstance(error, InvalidCredentials | InvalidGrant | InvalidToken):
            self.state.fail(error)
        raise error

    # ----------------------------------------------------------------- authorized calls

    def current(self) -> Flow[TokenSet]:
        """Valid tokens: the held ones, or renewed ones when they are missing or stale."""
        state = self.state
        tokens, generation = state.tokens, state.generation
        if (
            tokens is None
            or state.suspect == generation
            or tokens.needs_refresh(self.clock(), self.refresh_margin)
        ):
            tokens = yield from self.renew(generation)
        return tokens

    def authorize(self, request: httpx.Request, *, read: bool) -> Flow[httpx.Response]:
        """Send with a bearer token; on 401, renew once (single-flight) and retry once."""
        yield from self.current()
        tokens, generation = self.state.tokens, self.state.generation
        assert tokens is not None
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response: httpx.Response = yield Send(request, read)
        if response.status_code != 401:
            return response
        if not isinstance(request.stream, httpx.ByteStream):
            # A streamed body cannot be sent twice, and httpx returns the last response it
            # got, so this 401 goes back as it is; the next request renews first.
            self.state.suspect = generation
            return response
        tokens = yield from self.renew(generation)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        retried: httpx.Response = yield Send(request, read)
        return retried

    def call(self, request: httpx.Request) -> Flow[httpx.Response]:
        """An authorized call to gatepass itself: retries 429/503, raises on errors."""
        attempt = 0
        while True:
            response = yield from self.authorize(request, read=True)
            wait = self.retry.delay(response, attempt)
            if wait is None:
                break
            attempt += 1
            yield Sleep(wait)
        if not response.is_success:
            raise error_from_response(response)
        return response


# --------------------------------------------------------------------- drivers


def run_sync(flow: Flow[T], http: httpx.Client, state: TokenState) -> T:
    """Run a flow with blocking I/O; the refresh lock is a thread lock."""
    held = False
    try:
        step = next(flow)
        while True:
            value: Any = None
            if isinstance(step, Send):
                try:
                    value = http.send(step.request)
                except httpx.TransportError as exc:
                    raise ConnectionFailed(f"cannot reach {step.request.url}: {exc}") from exc
            elif isinstance(step, Lock):
                state.thread_lock.acquire()
                held = True
            elif isinstance(step, Unlock):
                state.thread_lock.release()
                held = False
            else:
                time.sleep(step.seconds)
            step = flow.send(value)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        if held:
            state.thread_lock.release()
        flow.close()


async def acquire_async(state: TokenState) -> None:
    """The task-level lock, then the thread lock (so threads sharing the tokens are excluded
    too) without blocking the event loop."""
    lock = state.async_lock()
    await lock.acquire()
    try:
        # Polling, because a thread lock cannot be awaited; contended only when threads and
        # tasks share one client.
        while not state.thread_lock.acquire(blocking=False):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    except BaseException:
        lock.release()
        raise


def release_async(state: TokenState) -> None:
    state.thread_lock.release()
    state.async_lock().release()


async def run_async(flow: Flow[T], http: httpx.AsyncClient, state: TokenState) -> T:
    held = False
    try:
        step = next(flow)
        while True:
            value: Any = None
            if isinstance(step, Send):
                try:
                    value = await http.send(step.request)
                except httpx.TransportError as exc:
                    raise ConnectionFailed(f"cannot reach {step.request.url}: {exc}") from exc
            elif isinstance(step, Lock):
                await acquire_async(state)
                held = True
            elif isinstance(step, Unlock):
                release_async(state)
                held = False
            else:
                await asyncio.sleep(step.seconds)
            step = flow.send(value)
    except StopIteration as stop:
        result: T = stop.value
        return result
    finally:
        if held:
            release_async(state)
        flow.close()


def auth_sync(
    flow: Flow[httpx.Response], state: TokenState
) -> Generator[httpx.Request, httpx.Response, None]:
    """Run a flow inside httpx's sync auth machinery: httpx sends, we lock and sleep."""
    held = False
    try:
        step = next(flow)
        while True:
            value: Any = None
            if isinstance(step, Send):
                value = yield step.request
                if step.read:
                    value.read()
            elif isinstance(step, Lock):
                state.thread_lock.acquire()
                held = True
            elif isinstance(step, Unlock):
                state.thread_lock.release()
                held = False
            else:
                time.sleep(step.seconds)
            step = flow.send(value)
    except StopIteration:
        return
    finally:
        if held:
            state.thread_lock.release()
        flow.close()


async def auth_async(
    flow: Flow[httpx.Response], state: TokenState
) -> AsyncGenerator[httpx.Request, httpx.Response]:
    held = False
    try:
        step = next(flow)
        while True:
            value: Any = None
            if isinstance(step, Send):
                value = yield step.request
                if step.read:
                    await value.aread()
            elif isinstance(step, Lock):
                await acquire_async(state)
                held = True
            elif isinstance(step, Unlock):
                release_async(state)
                held = False
            else:
                await asyncio.sleep(step.seconds)
            step = flow.send(value)
    except StopIteration:
        return
    finally:
        if held:
            release_async(state)
        flow.close()
