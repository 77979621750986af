"""Dashboard figures: minutes aligned to the clock, empty minutes filled, outcomes apart."""

from __future__ import annotations

from gatepass.core.dashboard import dashboard_figures
from gatepass.core.models import AuditEvent


async def test_figures_per_minute(runtime, clock):
    clock.set(1_800_000_030.0)  # 30 s into a minute
    now = clock.now()
    for offset, outcome, ip in [
        (-30, "success", "198.51.100.1"),  # first second of the current minute
        (-31, "failure", "198.51.100.2"),  # last second of the minute before
        (-31, "failure", "198.51.100.2"),
        (-151, "failure", "198.51.100.3"),  # just before the 3-minute window
    ]:
        await runtime.storage.audit.record(
            AuditEvent(at=now + offset, event="login", outcome=outcome, ip=ip)
        )
    figures = await dashboard_figures(runtime.storage, now, window_minutes=3)
    assert [(m.start - now, m.successes, m.failures) for m in figures.minutes] == [
        (-150, 0, 0),
        (-90, 0, 2),
        (-30, 1, 0),
    ]
    assert (figures.logins, figures.failures, figures.logins_last_minute, figures.peak) == (
        1,
        2,
        1,
        2,
    )
    assert figures.refused_addresses == (("198.51.100.2", 2),)
    assert figures.active_sessions == 0
