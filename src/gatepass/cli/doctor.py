"""`gatepass doctor`: check a deployment the way its operator would, one row per check.

Each check says ok, warn, fail or skip with one line of detail; later checks that depend on a
failed one are skipped rather than failing with a confusing second message. Nothing here
changes the deployment (no migration, no key creation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from gatepass.adapters.sql.engine import DatabaseUnusable
from gatepass.adapters.sql.migrate import current_revision, head_revision
from gatepass.adapters.sql.storage import SqlStorage, open_storage
from gatepass.app.container import MASTER_KEY_CHECK, SetupError, read_master_key
from gatepass.config import Settings, safe_url
from gatepass.core.errors import GatepassError
from gatepass.core.keys import ID_TOKEN_ONLY_ALGS, MasterKey, MasterKeyError, load_signing_key

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
# A clock this far from the database's or Redis's is a problem (tokens' iat/exp, bans).
CLOCK_WARN_SECONDS = 1.0
EARLIEST_SANE_TIME = 1_735_689_600  # 2025-01-01: a clock before this was reset


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "detail": self.detail}


async def diagnose(settings: Settings) -> list[Check]:
    checks = [Check("configuration", OK, "valid")]
    if settings.database_url is None and not (settings.home / "gatepass.db").exists():
        checks.append(
            Check("database", FAIL, f"no database in {settings.home}: run `gatepass init`")
        )
        return _skip_rest(checks, settings)
    try:
        storage = await open_storage(
            settings.resolved_database_url,
            buffered_audit=False,
            schema=settings.database_schema,
            pool_size=1,
        )
    except DatabaseUnusable as exc:
        checks.append(Check("database", FAIL, str(exc)))
        checks.extend(Check(name, SKIP, "needs the database") for name in _DEPENDENT)
    else:
        try:
            await _database_checks(settings, storage, checks)
        finally:
            await storage.close()
    checks.append(await _redis_check(settings))
    checks.append(await _clock_check(settings, checks))
    checks.append(_dialects_check(settings))
    checks.append(_issuer_check(settings))
    return checks


async def _database_checks(settings: Settings, storage: SqlStorage, checks: list[Check]) -> None:
    dialect = storage.engine.dialect.name
    where = safe_url(settings.resolved_database_url)
    try:
        await storage.ping()
    except GatepassError:
        checks.append(Check("database", FAIL, f"cannot reach {where}"))
        checks.extend(Check(name, SKIP, "needs the database") for name in _DEPENDENT)
        return
    checks.append(Check("database", OK, f"{dialect} reachable at {where}"))
    revision = await current_revision(storage.engine)
    head = head_revision()
    if revision is None:
        checks.append(Check("schema", FAIL, "not initialised: run `gatepass init`"))
        checks.extend(Check(name, SKIP, "needs the schema") for name in _DEPENDENT[1:])
        return
    if revision != head:
        checks.append(
            Check(
                "schema", FAIL, f"at revision {revision}, latest is {head}: run `gatepass migrate`"
            )
        )
        checks.extend(Check(name, SKIP, "needs the schema") for name in _DEPENDENT[1:])
        return
    checks.append(Check("schema", OK, f"migrated (revision {revision})"))
    master = await _master_key_check(settings, storage, checks)
    if master is None:
        checks.append(Check("signing keys", SKIP, "needs the master key"))
        return
    checks.append(await _signing_keys_check(settings, storage, master))


_DEPENDENT = ("schema", "master key", "signing keys")


async def _master_key_check(
    settings: Settings, storage: SqlStorage, checks: list[Check]
) -> MasterKey | None:
    try:
        master = read_master_key(settings, create=False)
    except (SetupError, MasterKeyError) as exc:
        checks.append(Check("master key", FAIL, str(exc)))
        return None
    source = "GATEPASS_MASTER_KEY" if settings.master_key else str(settings.master_key_file)
    stored = await storage.get_meta(MASTER_KEY_CHECK)
    if stored is None:
        checks.append(Check("master key", FAIL, "the database is not initialised: `gatepass init`"))
        return None
    if stored != master.check_value():
        checks.append(
            Check("master key", FAIL, f"the key from {source} is not this database's master key")
        )
        return None
    checks.append(Check("master key", OK, f"from {source}; matches the database"))
    return master


async def _signing_keys_check(settings: Settings, storage: SqlStorage, master: MasterKey) -> Check:
    records = await storage.list_signing_keys()
    broken = []
    for record in records:
        try:
            load_signing_key(record, master)
        except (MasterKeyError, ValueError):
            broken.append(record.kid)
    if broken:
        return Check("signing keys", FAIL, f"cannot decrypt: {', '.join(broken)}")
    active = [
        record
        for record in records
        if record.status == "active" and record.alg not in ID_TOKEN_ONLY_ALGS
    ]
    if settings.signing_alg == "HS256":
        return Check(
            "signing keys", OK, f"HS256 shared secret signs; {len(records)} stored keys decrypt"
        )
    if not active:
        return Check("signing keys", FAIL, "no active signing key: run `gatepass keys rotate`")
    return Check(
        "signing keys",
        OK,
        f"{len(records)} decrypt; active {active[0].kid} ({active[0].alg})",
    )


async def _redis_check(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", SKIP, "not configured: the database holds denylist and throttle")
    from gatepass.adapters.redis import RedisLink

    link = RedisLink(settings.redis_url, settings.redis_key_prefix)
    try:
        await link.ping()
    except GatepassError:
        return Check("redis", FAIL, f"cannot reach {safe_url(settings.redis_url)}")
    finally:
        await link.close()
    return Check("redis", OK, f"reachable at {safe_url(settings.redis_url)}")


async def _clock_check(settings: Settings, checks: list[Check]) -> Check:
    now = time.time()
    if now < EARLIEST_SANE_TIME:
        return Check("clock", FAIL, f"this host's clock reads {now:.0f}: it was reset")
    skews: list[tuple[str, float]] = []
    database_ok = any(c.name == "database" and c.status == OK for c in checks)
    url = settings.resolved_database_url
    if database_ok and url.startswith("postgresql"):
        skews.append(("PostgreSQL", await _postgres_skew(settings)))
    if settings.redis_url and any(c.name == "redis" and c.status == OK for c in checks):
        skews.append(("Redis", await _redis_skew(settings)))
    if not skews:
        return Check("clock", OK, "this host's clock (no server to compare with)")
    worst = max(abs(skew) for _, skew in skews)
    detail = ", ".join(f"{name} {skew:+.3f}s" for name, skew in skews)
    if worst > settings.clock_leeway:
        return Check("clock", FAIL, f"{detail}: beyond clock_leeway ({settings.clock_leeway:g}s)")
    if worst > CLOCK_WARN_SECONDS:
        return Check("clock", WARN, f"{detail}: run NTP on every host")
    return Check("clock", OK, f"in step ({detail})")


async def _postgres_skew(settings: Settings) -> float:
    storage = await open_storage(
        settings.resolved_database_url, buffered_audit=False, schema=settings.database_schema
    )
    try:
        async with storage.engine.connect() as conn:
            before = time.time()
            remote = (
                await conn.execute(sa.text("SELECT extract(epoch FROM clock_timestamp())"))
            ).scalar_one()
            after = time.time()
    finally:
        await storage.close()
    return float(remote) - (before + after) / 2


async def _redis_skew(settings: Settings) -> float:
    from gatepass.adapters.redis import RedisLink

    assert settings.redis_url is not None
    link = RedisLink(settings.redis_url, settings.redis_key_prefix)
    try:
        before = time.time()
        seconds, micros = await link.client.time()
        after = time.time()
    finally:
        await link.close()
    return seconds + micros / 1e6 - (before + after) / 2


def _dialects_check(settings: Settings) -> Check:
    # Imported here: building the surfaces pulls in the HTTP layer, which only this needs.
    from gatepass.http.context import Gate
    from gatepass.http.dialects import enabled_dialects

    surfaces = enabled_dialects(Gate(settings=settings))
    if not surfaces:
        return Check("dialects", OK, "none enabled (native, OAuth and admin APIs only)")
    routes = "; ".join(
        f"{s.name}: " + ", ".join(f"{e.method} {e.path}" for e in s.endpoints()) for s in surfaces
    )
    return Check("dialects", OK, routes)


def _issuer_check(settings: Settings) -> Check:
    issuer = settings.issuer
    local = any(host in issuer for host in ("://127.0.0.1", "://localhost", "://[::1]"))
    if issuer.startswith("https://") or local:
        return Check("issuer", OK, issuer)
    return Check("issuer", WARN, f"{issuer} is not HTTPS: tokens and passwords cross in clear")


def _skip_rest(checks: list[Check], settings: Settings) -> list[Check]:
    checks.extend(Check(name, SKIP, "needs the database") for name in _DEPENDENT)
    checks.append(Check("redis", SKIP, "not checked"))
    checks.append(Check("clock", SKIP, "not checked"))
    checks.append(_dialects_check(settings))
    checks.append(_issuer_check(settings))
    return checks
