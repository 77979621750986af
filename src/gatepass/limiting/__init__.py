"""Login throttling and the token denylist: in-process and Redis implementations.

Both follow the protocols in `gatepass.storage.base`; the database-backed denylist lives with
the SQL storage (`gatepass.storage.sql.denylist`).
"""
