"""Every implementation of a port the core declares (`gatepass.core.ports`): SQL storage
(SQLite, PostgreSQL), Redis and in-process throttling and denylists, the outbound HTTP fetcher,
and the observing wrappers that turn port calls into metrics and log lines.

Adapters import the core, never a surface (`gatepass.http`, `gatepass.cli`) or the wiring
(`gatepass.app`)."""
