"""Real PostgreSQL and Redis for the tests: each test gets its own schema / key prefix.

Outside CI a missing server skips the test; under CI=true it fails, so the backends are always
exercised there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest

PG_DSN = os.environ.get("GATEPASS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_URL = "postgresql+asyncpg://" + PG_DSN.split("://", 1)[1]
REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} on {host}:{port} is required under CI but not reachable")
    pytest.skip(f"{name} on {host}:{port} is not running")


@asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A fresh schema, dropped afterwards."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"gp_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


# Migrated schemas this process created, and those of them no test holds now.
_POOLED: set[str] = set()
_POOL: list[str] = []


@asynccontextmanager
async def migrated_pg_schema() -> AsyncIterator[str]:
    """A schema at the head revision whose tables are empty, as a freshly migrated one.

    Creating and migrating a schema costs about half a second, so each one is reused: after
    the test every table but `alembic_version` is emptied (sequences restarted) and the
    schema waits for this process's next test. A schema whose tables or revision the test
    changed is dropped instead. Tests of the migrations themselves use `pg_schema()`."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = _POOL.pop() if _POOL else await _new_migrated_schema()
    reusable = False
    try:
        yield schema
    finally:
        conn = await asyncpg.connect(PG_DSN)
        try:
            reusable = await _emptied(conn, schema)
            if not reusable:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
        if reusable:
            _POOL.append(schema)
        else:
            _POOLED.discard(schema)


async def _new_migrated_schema() -> str:
    from gatepass.adapters.sql.migrate import migrate
    from gatepass.adapters.sql.storage import open_storage

    schema = f"gp_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        _POOLED.add(schema)
        store = await open_storage(PG_URL, schema=schema, pool_size=1)
        try:
            await migrate(store.engine)
        finally:
            await store.close()
    finally:
        await conn.close()
    return schema


async def _table_names(conn: Any, schema: str) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
    return {row["tablename"] for row in rows}


async def _emptied(conn: Any, schema: str) -> bool:
    """Empty the data tables and restart the sequences; False (nothing done) when the schema
    is no longer the one a migration makes."""
    from gatepass.adapters.sql.migrate import HEAD_REVISION
    from gatepass.adapters.sql.tables import metadata

    if await _table_names(conn, schema) != {*metadata.tables, "alembic_version"}:
        return False
    revision = await conn.fetch(f'SELECT version_num FROM "{schema}".alembic_version')
    if [row["version_num"] for row in revision] != [HEAD_REVISION]:
        return False
    # DELETE rather than TRUNCATE: the tables hold a few rows, and TRUNCATE makes new files for
    # every table and index (measured: 0.4 s against a few milliseconds).
    sequences = await conn.fetch(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = $1", schema
    )
    async with conn.transaction():
        for table in reversed(metadata.sorted_tables):  # children before their parents
            await conn.execute(f'DELETE FROM "{schema}"."{table.name}"')
        for row in sequences:
            await conn.execute(f'ALTER SEQUENCE "{schema}"."{row["sequencename"]}" RESTART')
    return True


async def drop_pooled_schemas() -> None:
    """At the end of the session: drop every schema the pool created."""
    if not _POOLED:
        return
    conn = await asyncpg.connect(PG_DSN)
    try:
        while _POOLED:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{_POOLED.pop()}" CASCADE')
    finally:
        await conn.close()
    _POOL.clear()


def pg_url_with_schema(schema: str) -> str:
    """A database URL whose connections use `schema` (how a deployment would pin one too)."""
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def redis_prefix() -> str:
    """A key prefix no other test run uses."""
    return f"gp_test_{uuid.uuid4().hex[:12]}"


async def drop_redis_prefix(url: str, prefix: str) -> None:
    """Delete every key under `prefix` (the test's own keys only)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        async for name in client.scan_iter(match=f"{prefix}:*", count=1000):
            await client.delete(name)
    finally:
        await client.aclose()


@asynccontextmanager
async def redis_link(url: str = REDIS_URL) -> AsyncIterator[Any]:
    """A RedisLink on the shared server (or `url`) with its own prefix, cleaned up after."""
    from gatepass.adapters.redis import RedisLink

    if url == REDIS_URL:
        require_service("Redis", "127.0.0.1", 6379)
    link = RedisLink(url, redis_prefix())
    try:
        yield link
    finally:
        with contextlib.suppress(OSError, ConnectionError):
            await drop_redis_prefix(url, link.prefix)
        await link.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence, which the test
    may stop and start again (fault tests never touch the shared server)."""

    def __init__(self, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is required under CI but not installed")
            pytest.skip("redis-server is not installed")
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
