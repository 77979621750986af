"""Running the Alembic migrations from code (`gatepass init` / `gatepass migrate`).

On PostgreSQL the upgrade holds a transaction-level advisory lock, so several processes may
start at once (or migrate while others serve): one migrates, the others wait and find nothing
left to do.

Opening a database only compares its revision with `HEAD_REVISION`, read with one query:
importing Alembic and parsing its scripts would cost every server and CLI process about a
third of a second, so Alembic is imported only when a migration actually runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql.engine import guarded, write_transaction

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a new migration must update it
# (tests/contract/test_migrations.py checks it is Alembic's head).
HEAD_REVISION = "0009"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
_ADVISORY_LOCK_ID = 0x6761746570617373  # "gatepass"


def _config(connection: sa.Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return HEAD_REVISION


def alembic_head() -> str | None:
    """The head as Alembic computes it from the migration scripts (what HEAD_REVISION says)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def _upgrade(connection: sa.Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    command.upgrade(_config(connection), "head")


def _current(connection: sa.Connection) -> str | None:
    """What Alembic's MigrationContext.get_current_revision() answers, without Alembic: None
    before the first migration; a linear history has one row."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    revisions = sorted(str(row) for row in rows)
    return "+".join(revisions) if revisions else None


@guarded
async def migrate(engine: AsyncEngine) -> None:
    async with write_transaction(engine) as conn:
        await conn.run_sync(_upgrade)


@guarded
async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
