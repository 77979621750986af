"""Registered APIs (RFC 8707 resources): added and removed by the admin, read at every login
or refresh that names one (through the principal cache on SQLite, see changes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatepass.adapters.sql import tables as t
from gatepass.adapters.sql.changes import StampedCache, fetched
from gatepass.adapters.sql.engine import guarded
from gatepass.core.models import Resource


class SqlResourceStore:
    engine: AsyncEngine
    _principals: StampedCache[tuple[str, str], Any] | None

    @guarded
    async def add_resource(self, resource: Resource) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                t.resources.insert().values(
                    uri=resource.uri,
                    name=resource.name,
                    scopes=" ".join(sorted(resource.scopes)),
                    created_at=resource.created_at,
                )
            )

    async def get_resources(self, uris: Sequence[str]) -> list[Resource]:
        found = await fetched(
            self._principals, ("resources", "\n".join(uris)), lambda: self._get_resources(uris)
        )
        return list(found)

    @guarded
    async def _get_resources(self, uris: Sequence[str]) -> tuple[Resource, ...]:
        stmt = sa.select(t.resources).where(t.resources.c.uri.in_(list(uris)))
        async with self.engine.connect() as conn:
            return tuple(_resource(row) for row in (await conn.execute(stmt)).all())

    @guarded
    async def list_resources(self) -> list[Resource]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t.resources).order_by(t.resources.c.uri))).all()
        return [_resource(row) for row in rows]

    @guarded
    async def delete_resource(self, uri: str) -> bool:
        async with self.engine.begin() as conn:
            deleted = await conn.execute(t.resources.delete().where(t.resources.c.uri == uri))
        return bool(deleted.rowcount)


def _resource(row: Any) -> Resource:
    return Resource(
        uri=row.uri, name=row.name, scopes=frozenset(row.scopes.split()), created_at=row.created_at
    )
