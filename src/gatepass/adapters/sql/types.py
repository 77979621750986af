"""The text column types of every table: text no backend can hold is refused before the
database sees it, the same on SQLite as on PostgreSQL.

PostgreSQL refuses NUL in text (and the driver's error would surface as an unexpected one);
SQLite would store it, so the same value would work on one backend and fail on the other. A
lone surrogate cannot be encoded for either. Such a value can neither be stored nor name a
stored row, so binding one (insert, update or lookup) raises `UnstorableText`, an
`InvalidRequest` that every surface answers with its own 400. Records of what a caller tried
(audit actors, throttling keys) are made `recordable` before they get here; logins never look
up an identifier that is not `storable` (`core/service.py`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from gatepass.core.errors import InvalidRequest
from gatepass.core.text import storable


class UnstorableText(InvalidRequest):
    default_description = "a value holds a NUL character or a lone surrogate"


class String(sa.TypeDecorator[str]):
    """`VARCHAR(n)` that refuses unstorable text."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and not storable(value):
            raise UnstorableText()
        return value


class Text(String):
    """`TEXT` that refuses unstorable text."""

    impl = sa.Text
    cache_ok = True
