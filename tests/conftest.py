"""Shared fixtures: settings in a temporary home, a frozen clock, a runtime.

This module imports no web framework, so the core's tests stay framework-free; the HTTP
fixtures live in tests/api/conftest.py. PostgreSQL and Redis tests use the servers on
127.0.0.1 (tests/backends.py); under CI=true they must not skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gatepass.app.container import Container, open_container
from gatepass.config import Settings
from gatepass.core.clock import Clock, FrozenClock

# pytest keeps each test module's assert-rewritten code in __pycache__, but writes it only
# when bytecode may be written: where PYTHONDONTWRITEBYTECODE is set (as in the shells on this
# machine) each xdist worker parsed and rewrote all the test modules again on every run, about
# 5 s of CPU per process. Cached pycs are checked against the source, so an edit still counts.
sys.dont_write_bytecode = False

# A light argon2 profile keeps the suite fast; tests of the default profile set it explicitly.
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery staple"


def make_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "issuer": "http://testserver", **FAST_ARGON2}
    values.update(overrides)
    return Settings.model_validate(values)


SHARED_SCOPES = {"module", "class", "package"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (`scripts/test` runs `-n 2 --dist loadgroup`), the tests of a module that
    share an expensive module-scoped fixture (a server, a cluster, Chromium) all go to one
    worker; spread over two, each worker would start the fixture again. Found from the
    fixtures themselves, so a new module-scoped fixture is grouped without a list to keep.

    A parametrized shared fixture (tests/scale/test_multiprocess.py: one cluster on Redis, one
    on the database alone) is set up once per parameter anyway, so each parameter is a group
    of its own: the two halves of such a module can run on both workers at once."""
    schedule_slow_modules_first(items)
    for item in items:
        definitions = getattr(item, "_fixtureinfo", None)
        if definitions is None:
            continue
        shared = [
            name
            for name, fixtures in definitions.name2fixturedefs.items()
            if any(fixture.scope in SHARED_SCOPES for fixture in fixtures)
        ]
        if not shared:
            continue
        group = item.nodeid.split("::")[0]
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            # No brackets: xdist takes the text after the last "@" as the group only when no
            # "]" follows it.
            group += "".join(
                f":{name}={callspec.indices[name]}"
                for name in sorted(shared)
                if name in callspec.indices
            )
        item.add_marker(pytest.mark.xdist_group(group))


def schedule_slow_modules_first(items: list[pytest.Item]) -> None:
    """The modules with a `slow` test (one that starts real processes: servers, clusters,
    Chromium, CLI calls) run before the others, each module's tests kept together and in
    order. xdist's `loadgroup` sends the groups of several tests first, then single tests in
    collection order: with the long single tests early, what is left at the end is the
    millisecond unit tests, so neither worker idles while the other finishes a long one."""
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)


# trylast: after `--deselect` and `-k` have matched the plain ids (pytest registers only
# `pytest_`-prefixed names, hence the name and `specname`).
@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_xdist_groups(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """What pytest-xdist 3.8's worker does for `--dist loadgroup`, redone for pytest 9.2.

    `loadgroup` sends together the tests whose node id ends in `@<group>`; xdist's worker adds
    that suffix by assigning `item._nodeid`, which pytest 9.2 no longer reads (a node's id is
    the structured `item._id`). So no test was ever grouped: a module's tests spread over both
    workers, and each worker started the module's server, cluster or Chromium again, sometimes
    more than once (a module-scoped fixture is torn down whenever the next test on that worker
    comes from elsewhere). Remove this once xdist suffixes the ids itself (the check below)."""
    if not getattr(config.option, "loadgroup", False):  # set in xdist workers under loadgroup
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
        if not names or "@" in item.nodeid.rsplit("]", 1)[-1]:
            continue
        suffixed = f"{item.nodeid}@{'_'.join(names)}"
        parsed = NodeId.parse(suffixed)
        assert str(parsed) == suffixed, suffixed
        item._id = parsed


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile gatepass's sources once, before the xdist workers start. The suite starts a few
    hundred `python -m gatepass.cli.main` processes (servers, CLI calls, documented examples);
    where PYTHONDONTWRITEBYTECODE is set (as in the shells on this machine) none of them leaves
    bytecode behind, so each compiled all of gatepass again: about a fifth of its start-up.
    The cache is __pycache__ (git-ignored), checked against each source's mtime, so an edited
    module is still recompiled."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller compiled them
    import compileall

    import gatepass

    compileall.compile_dir(Path(gatepass.__file__).parent, quiet=1)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.backends import drop_pooled_schemas

    asyncio.run(drop_pooled_schemas())


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GATEPASS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(time.time())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var")


class SqliteTemplates:
    """Homes initialised once per session, one per signing algorithm, copied for each test.

    `open_container(initialize=True)` on a new home migrates the database, writes the master key
    and its check value, generates the first signing key and the instance id; copying the two
    files of a home that went through exactly that is twenty times cheaper. The copy is then
    opened as a deployment opens an initialised home. Tests *about* initialisation (and those
    with their own database or master key) call `open_container(initialize=True)` themselves.
    """

    FILES = ("gatepass.db", "master.key")  # after a clean close SQLite leaves no -wal/-shm

    def __init__(self, root: Path) -> None:
        self.root = root
        self._homes: dict[str, Path] = {}

    @staticmethod
    def applies(settings: Settings) -> bool:
        return (
            settings.database_url is None and not settings.master_key and not settings.home.exists()
        )

    async def home(self, settings: Settings) -> Path:
        alg = settings.signing_alg
        if alg not in self._homes:
            template = make_settings(
                self.root / alg, signing_alg=alg, hs256_secret=settings.hs256_secret
            )
            await (await open_container(template, initialize=True)).close()
            assert sorted(p.name for p in template.home.iterdir()) == sorted(
                (*self.FILES, "gatepass.db-changes")
            ), "the template home holds files the copy would miss"
            self._homes[alg] = template.home
        return self._homes[alg]

    async def copy_to(self, settings: Settings) -> None:
        template = await self.home(settings)
        settings.home.mkdir(parents=True, mode=0o700)
        for name in self.FILES:
            shutil.copy2(template / name, settings.home / name)


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


async def fresh_runtime(settings: Settings, clock: Clock, templates: SqliteTemplates) -> Container:
    """What `open_container(settings, clock=clock, initialize=True)` gives on a new home, from a
    copy of an initialised template where the settings allow one."""
    if not templates.applies(settings):
        return await open_container(settings, clock=clock, initialize=True)
    await templates.copy_to(settings)
    return await open_container(settings, clock=clock)


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Container]:
    rt = await fresh_runtime(settings, clock, sqlite_templates)
    try:
        yield rt
    finally:
        await rt.close()


UserFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
def make_user(runtime: Container) -> UserFactory:
    async def factory(name: str = "alice", password: str | None = PASSWORD, **kwargs: Any) -> Any:
        return await runtime.admin.add_user(name, password=password, actor="test", **kwargs)

    return factory


@pytest.fixture
def make_client(runtime: Container) -> Callable[..., Awaitable[Any]]:
    async def factory(name: str = "svc", **kwargs: Any) -> Any:
        return await runtime.admin.add_client(name, actor="test", **kwargs)

    return factory
