"""What every surface's handlers share: the runtime, once the app has started."""

from __future__ import annotations

from dataclasses import dataclass, field

from gatepass.config import Settings
from gatepass.core.admin import AdminService
from gatepass.core.service import AuthService
from gatepass.runtime import Runtime


@dataclass
class Gate:
    settings: Settings
    runtime: Runtime | None = None
    started_at: float = field(default=0.0)

    @property
    def ready(self) -> Runtime:
        if self.runtime is None:
            raise RuntimeError("the app has not started")
        return self.runtime

    @property
    def auth(self) -> AuthService:
        return self.ready.auth

    @property
    def admin(self) -> AdminService:
        return self.ready.admin
