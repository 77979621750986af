"""The core's own settings: the few values every core module needs, filled from
`gatepass.config.Settings` by `gatepass.app.container` (the core never reads Settings)."""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.core.scopes import ADMIN_SCOPE


@dataclass(frozen=True, slots=True)
class CoreConfig:
    issuer: str
    audience: str
    leeway: float = 30.0
    refresh_reuse_grace: float = 0.0
    principal_cache_ttl: float = 2.0
    # Granted only when named (issue 22); see `gatepass.core.scopes.ScopePolicy`.
    privileged_scopes: frozenset[str] = frozenset({ADMIN_SCOPE})
