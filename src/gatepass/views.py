"""Entities as JSON, one copy for the admin API, the console and the CLI.

Times are ISO 8601 in UTC with a `Z`, to the second. The entities older than this module still
have their renderers in `gatepass.http.admin_api` and the CLI; new ones start here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gatepass.core.models import Resource


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def resource_view(resource: Resource) -> dict[str, Any]:
    return {
        "uri": resource.uri,
        "name": resource.name,
        "scopes": sorted(resource.scopes),
        "created_at": iso(resource.created_at),
    }
