"""Several real `gatepass serve` processes sharing one PostgreSQL schema and one Redis prefix,
and a TCP proxy in front of PostgreSQL that a test can cut and restore."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.backends import PG_DSN, PG_URL, REDIS_URL, require_service
from tests.system.server import Server, gatepass, gatepass_env


@contextmanager
def pg_schema_sync() -> Iterator[str]:
    """A fresh schema for a test that runs servers (sync tests), dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"gp_test_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        asyncio.run(run(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def pg_fetch(schema: str, sql: str) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(PG_DSN, server_settings={"search_path": schema})
        try:
            return [dict(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    return asyncio.run(run())


def cluster_env(
    home: Path,
    schema: str,
    prefix: str | None,
    *,
    database_url: str = PG_URL,
    redis_url: str = REDIS_URL,
    **extra: str,
) -> dict[str, str]:
    settings = {
        "GATEPASS_DATABASE_URL": database_url,
        "GATEPASS_DATABASE_SCHEMA": schema,
        "GATEPASS_DATABASE_POOL_SIZE": "2",
        # Tests tell client addresses apart with X-Forwarded-For.
        "GATEPASS_TRUSTED_PROXIES": "127.0.0.1",
    }
    if prefix is not None:
        require_service("Redis", "127.0.0.1", 6379)
        settings.update(GATEPASS_REDIS_URL=redis_url, GATEPASS_REDIS_KEY_PREFIX=prefix)
    settings.update(extra)
    return gatepass_env(home, **settings)


def init(env: dict[str, str]) -> str:
    """`gatepass init` against the shared database; the admin's password."""
    result = gatepass("init", "--admin", "root", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["password"])


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    result = gatepass(*args, env=env, input=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


@contextmanager
def servers(env: dict[str, str], count: int, workers: int = 1) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        # All started before any is waited for: their start-ups overlap.
        for _ in range(count):
            started.append(Server(env, workers=workers, wait=False))
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.terminate()
        for server in started:
            server.stop()


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def jti_of(token: str) -> str:
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def wait_until(check: Callable[[], bool], within: float, interval: float = 0.05) -> float:
    """Seconds until `check()` held; raises AssertionError after `within` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not true within {within}s")
        time.sleep(interval)
    return time.monotonic() - started


def post(url: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url + path, timeout=15, **kwargs)


def get(url: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url + path, timeout=15, **kwargs)


class PgProxy:
    """A TCP proxy to 127.0.0.1:5432 on its own thread. `cut()` drops every connection and
    refuses new ones (as a PostgreSQL restart looks to clients); `restore()` accepts again."""

    def __init__(self, port: int, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.port = port
        self.upstream = upstream
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> PgProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def restore(self) -> None:
        self._run(self._listen())

    def cut(self) -> None:
        self._run(self._close())

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
