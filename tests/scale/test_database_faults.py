"""In one process: with Redis, verifying an access token does not need PostgreSQL, and the
process recovers by itself when PostgreSQL is back (PostgreSQL reached through a proxy the test
cuts; the shared server is never touched)."""

from __future__ import annotations

import pytest

from gatepass.app.container import open_container
from gatepass.core.clock import FrozenClock
from gatepass.core.errors import StorageUnavailable
from gatepass.core.models import RequestContext
from tests.backends import REDIS_URL, pg_schema, redis_link
from tests.conftest import PASSWORD, make_settings
from tests.scale.cluster import PgProxy
from tests.system.server import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_verification_needs_no_database_with_redis(tmp_path, clock: FrozenClock):
    ctx = RequestContext(ip="198.51.100.1", user_agent="pytest", surface="native")
    async with pg_schema() as schema, redis_link() as link:
        with PgProxy(free_port()) as proxy:
            settings = make_settings(
                tmp_path / "var",
                database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/test",
                database_schema=schema,
                database_pool_size=2,
                redis_url=REDIS_URL,
                redis_key_prefix=link.prefix,
            )
            runtime = await open_container(settings, clock=clock, initialize=True)
            try:
                auth = runtime.auth
                await runtime.admin.add_user("vera", password=PASSWORD, actor="test")
                issued = await auth.login_password(
                    "vera", PASSWORD, scope=None, profile="native", ctx=ctx
                )
                proxy.cut()
                clock.advance(6)  # the key ring is due for a reload, which cannot happen
                verified = await auth.verify_access(issued.access_token)
                assert verified.subject == issued.principal.id
                with pytest.raises(StorageUnavailable):
                    await auth.login_password(
                        "vera", PASSWORD, scope=None, profile="native", ctx=ctx
                    )
                proxy.restore()
                again = await auth.login_password(
                    "vera", PASSWORD, scope=None, profile="native", ctx=ctx
                )
                await auth.logout(await auth.verify_access(again.access_token), ctx)
                proxy.cut()
                with pytest.raises(StorageUnavailable):
                    await auth.logout(verified, ctx)
                proxy.restore()
                assert (await auth.verify_access(issued.access_token)).jti == verified.jti
            finally:
                await runtime.close()
