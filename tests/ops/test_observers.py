"""The metrics that the scripted run cannot produce (external JWKS fetches, database errors)
and the three log formats."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import httpx

from gatepass.adapters.http_fetch import HttpJsonFetcher
from gatepass.adapters.sql.engine import make_engine
from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.errors import UpstreamUnavailable
from gatepass.http.app import create_app
from gatepass.observability.logs import (
    JsonFormatter,
    LogfmtFormatter,
    PlainFormatter,
    request_id_var,
)
from gatepass.observability.metrics import JWKS_FETCHES, STORAGE_ERRORS
from tests.idp import TestIdentityProvider
from tests.system.server import free_port


def _value(counter) -> float:
    return float(counter._value.get())


async def test_external_document_fetches_are_counted_by_host_and_outcome():
    provider = TestIdentityProvider()
    fetcher = HttpJsonFetcher(timeout=2)
    ok = JWKS_FETCHES.labels("127.0.0.1", "success")
    failed = JWKS_FETCHES.labels("127.0.0.1", "failure")
    before = (_value(ok), _value(failed))
    try:
        await fetcher.fetch_json(f"http://127.0.0.1:{provider.port}/jwks")
        await fetcher.fetch_json(
            f"http://127.0.0.1:{provider.port}/.well-known/openid-configuration"
        )
        for url in (
            f"http://127.0.0.1:{provider.port}/missing",
            f"http://127.0.0.1:{free_port()}/",
        ):
            try:
                await fetcher.fetch_json(url)
            except UpstreamUnavailable:
                pass
            else:
                raise AssertionError(f"{url} should have failed")
    finally:
        await fetcher.close()
        provider.stop()
    assert (_value(ok) - before[0], _value(failed) - before[1]) == (2, 2)


async def test_database_errors_are_counted(settings: Settings, runtime: Container, tmp_path):
    app = create_app(settings, runtime=runtime)
    errors = STORAGE_ERRORS.labels("database")
    before = _value(errors)
    working = runtime.storage.engine
    threads = set(threading.enumerate())
    runtime.storage.engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite")
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            not_ready = await http.get("/readyz")
    finally:
        await runtime.storage.engine.dispose()
        runtime.storage.engine = working
    for thread in set(threading.enumerate()) - threads:  # see test_native's readyz test
        await asyncio.to_thread(thread.join, 10)
    assert not_ready.status_code == 503
    assert _value(errors) == before + 1


def _record(**fields: object) -> logging.LogRecord:
    record = logging.LogRecord("gatepass.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = fields
    return record


def test_json_lines_carry_the_request_id_and_fields():
    token = request_id_var.set("req-1")
    try:
        line = JsonFormatter().format(_record(route="/auth/login", status=401, client=None))
    finally:
        request_id_var.reset(token)
    data = json.loads(line)
    assert "\n" not in line
    assert {k: data[k] for k in ("level", "logger", "msg", "request_id", "route", "status")} == {
        "level": "info",
        "logger": "gatepass.access",
        "msg": "request",
        "request_id": "req-1",
        "route": "/auth/login",
        "status": 401,
    }
    assert "client" not in data  # None values are left out


def test_logfmt_quotes_what_needs_quoting():
    line = LogfmtFormatter().format(_record(route="/a b", status=200, note='say "hi"\nbye'))
    assert line.endswith(' route="/a b" status=200 note="say \\"hi\\"\\nbye"')
    assert "\n" not in line
    assert " level=info logger=gatepass.access msg=request pid=" in line


def test_plain_is_readable():
    line = PlainFormatter().format(_record(route="/healthz", status=200))
    assert " INFO gatepass.access: request pid=" in line
    assert line.endswith(" route=/healthz status=200")


def test_an_exception_stays_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "gatepass.http", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    data = json.loads(JsonFormatter().format(record))
    assert data["exc"].startswith("Traceback (most recent call last):")
    assert data["exc"].endswith("ValueError: boom")


async def test_database_errors_never_show_statement_parameters(runtime: Container):
    import sqlalchemy as sa

    secret = "$argon2id$v=19$m=1024,t=1,p=1$c2VjcmV0LXNhbHQ$c2VjcmV0LWhhc2g"
    async with runtime.storage.engine.connect() as conn:
        try:
            await conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
        except sa.exc.DBAPIError as error:
            message = str(error)
        else:
            raise AssertionError("the statement should have failed")
    assert "no_such_table" in message
    assert secret not in message
    assert "hidden due to hide_parameters=True" in message


async def test_the_hashing_pool_reports_its_load():
    from gatepass.adapters.observed import PoolMetrics
    from gatepass.core.errors import Overloaded
    from gatepass.core.passwords import Argon2Profile, HashingPool, PasswordHasher
    from gatepass.observability.metrics import (
        HASH_IN_FLIGHT,
        HASH_QUEUE,
        HASH_REJECTED,
        HASH_WAIT,
    )

    def waits() -> float:
        (family,) = HASH_WAIT.collect()
        return float(next(s.value for s in family.samples if s.name.endswith("_count")))

    hasher = PasswordHasher(Argon2Profile(time_cost=2, memory_cost=32768))
    pool = HashingPool(hasher, workers=1, queue=1, observer=PoolMetrics())  # capacity 2
    rejected, waited = _value(HASH_REJECTED), waits()
    try:
        first = asyncio.ensure_future(pool.hash("one"))
        second = asyncio.ensure_future(pool.hash("two"))
        await asyncio.sleep(0)  # both admitted: one hashing, one waiting for the thread
        assert (_value(HASH_IN_FLIGHT), _value(HASH_QUEUE)) == (2, 1)
        try:
            await pool.hash("three")
        except Overloaded:
            pass
        else:
            raise AssertionError("a third hash should have been refused")
        await asyncio.gather(first, second)
    finally:
        pool.close()
    assert (_value(HASH_IN_FLIGHT), _value(HASH_QUEUE)) == (0, 0)
    assert _value(HASH_REJECTED) == rejected + 1
    assert waits() == waited + 2
