"""Live figures for operators: logins per minute, failures, active sessions, refused addresses.

Computed from the audit log (`login` events, success and failure) and the session table, with
aggregate queries, so the cost does not grow with traffic. Minutes are aligned to the clock so
that a chart refreshed every few seconds keeps its bars in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatepass.core.ports import Storage

LOGIN_EVENT = "login"
MINUTE = 60


@dataclass(frozen=True, slots=True)
class MinuteCount:
    start: float  # POSIX seconds, a whole minute
    successes: int
    failures: int


@dataclass(frozen=True, slots=True)
class DashboardFigures:
    at: float
    minutes: tuple[MinuteCount, ...]  # oldest first; the last one is the current minute
    active_sessions: int
    refused_addresses: tuple[tuple[str, int], ...]  # failed logins per address, most first

    @property
    def logins(self) -> int:
        return sum(minute.successes for minute in self.minutes)

    @property
    def failures(self) -> int:
        return sum(minute.failures for minute in self.minutes)

    @property
    def logins_last_minute(self) -> int:
        return self.minutes[-1].successes if self.minutes else 0

    @property
    def peak(self) -> int:
        return max((m.successes + m.failures for m in self.minutes), default=0)


async def dashboard_figures(
    storage: Storage, now: float, *, window_minutes: int = 60, top: int = 5
) -> DashboardFigures:
    if window_minutes < 1:
        raise ValueError("the window must be at least one minute")
    since = (int(now) // MINUTE - (window_minutes - 1)) * MINUTE
    counts = await storage.audit.count_by_bucket(LOGIN_EVENT, since, MINUTE)
    per_bucket: dict[tuple[int, str], int] = {}
    for count in counts:
        index = round((count.bucket_start - since) / MINUTE)
        per_bucket[(index, count.outcome)] = count.count
    minutes = tuple(
        MinuteCount(
            start=since + index * MINUTE,
            successes=per_bucket.get((index, "success"), 0),
            failures=per_bucket.get((index, "failure"), 0),
        )
        for index in range(window_minutes)
    )
    refused = await storage.audit.top_addresses(LOGIN_EVENT, "failure", since, top)
    return DashboardFigures(
        at=now,
        minutes=minutes,
        active_sessions=await storage.count_active_sessions(now),
        refused_addresses=tuple(refused),
    )
