"""SQLAlchemy Core implementation of the storage protocols, for SQLite and PostgreSQL."""

from gatepass.adapters.sql.storage import SqlStorage, open_storage

__all__ = ["SqlStorage", "open_storage"]
