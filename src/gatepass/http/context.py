"""What every surface's handlers share: the runtime, once the app has started."""

from __future__ import annotations

from dataclasses import dataclass, field

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.core.admin import AdminService
from gatepass.core.service import AuthService


@dataclass
class Gate:
    settings: Settings
    runtime: Container | None = None
    started_at: float = field(default=0.0)

    @property
    def ready(self) -> Container:
        if self.runtime is None:
            raise RuntimeError("the app has not started")
        return self.runtime

    @property
    def auth(self) -> AuthService:
        return self.ready.auth

    @property
    def admin(self) -> AdminService:
        return self.ready.admin
