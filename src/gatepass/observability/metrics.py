"""Prometheus metrics (prometheus-client), defined once per process on the default registry.

With several worker processes, `PROMETHEUS_MULTIPROC_DIR` must name a directory shared by
them (`gatepass serve --workers N` sets one up): every worker then writes its samples to
memory-mapped files there and `/metrics`, whichever worker answers, aggregates all of them.

Everything here is cheap on the hot path: label children are cached per label tuple, and
values that need a query (active sessions) are computed only when scraped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "gatepass_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "gatepass_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
LOGINS = Counter(
    "gatepass_logins",
    "Login attempts by surface, credential kind and outcome",
    ["surface", "method", "outcome"],
)
THROTTLED = Counter(
    "gatepass_login_throttled",
    "Login attempts refused by the throttle before any credential was checked",
)
LOCKOUTS = Counter("gatepass_login_lockouts", "Bans imposed by failed logins, by kind", ["kind"])
MFA_EVENTS = Counter(
    "gatepass_mfa_events",
    "Second-factor events (enrolled, confirmed, challenge, verified, failed, "
    "recovery_code_used, removed, reset), by event and method",
    ["event", "method"],
)
REFRESHES = Counter(
    "gatepass_token_refreshes", "Successful token refreshes by surface", ["surface"]
)
REFRESH_REUSE = Counter(
    "gatepass_refresh_reuse_detected",
    "Retired refresh (or access) tokens presented again: their session was revoked",
    ["surface"],
)
REVOCATIONS = Counter(
    "gatepass_revocations",
    "Denylist entries written, by kind (session, token, client)",
    ["kind"],
)
AUDIT_EVENTS = Counter(
    "gatepass_audit_events", "Audit events recorded, by event and outcome", ["event", "outcome"]
)
HASH_IN_FLIGHT = Gauge(
    "gatepass_password_hash_in_flight",
    "Password hashes admitted to the pool (running and waiting)",
    multiprocess_mode="livesum",
)
HASH_QUEUE = Gauge(
    "gatepass_password_hash_queue_depth",
    "Password hashes waiting for a hashing thread",
    multiprocess_mode="livesum",
)
HASH_WAIT = Histogram(
    "gatepass_password_hash_wait_seconds",
    "Time a password hash waited for a hashing thread",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
HASH_REJECTED = Counter(
    "gatepass_password_hash_rejected", "Password hashes refused because the pool was full"
)
JWKS_FETCHES = Counter(
    "gatepass_external_jwks_fetches",
    "Documents fetched from external identity providers (discovery and JWKS), by host and outcome",
    ["host", "outcome"],
)
STORAGE_ERRORS = Counter(
    "gatepass_storage_errors",
    "Failed calls to the database or Redis (connection lost, timeout)",
    ["backend"],
)
MAIL_SENT = Counter(
    "gatepass_mail_sent",
    "Mail handed to the SMTP server, by template and outcome",
    ["template", "outcome"],
)
PURGED = Counter(
    "gatepass_purged_rows", "Expired rows deleted by housekeeping, by table", ["table"]
)


# prometheus-client chooses memory-mapped files or plain values once, when first imported.
_MULTIPROCESS = values.ValueClass is not values.MutexValue


def multiprocess_dir() -> str | None:
    """The directory of multi-process mode, if prometheus-client was started in it."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") if _MULTIPROCESS else None


class _Fixed(Collector):
    def __init__(self, metrics: Iterable[Metric]) -> None:
        self.metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def render(active_sessions: int | None) -> tuple[bytes, str]:
    """The exposition text: every process's samples, plus values computed at scrape time."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if active_sessions is not None:
        extra = CollectorRegistry()
        sessions = GaugeMetricFamily(
            "gatepass_active_sessions", "Sessions neither expired nor revoked (database-wide)"
        )
        sessions.add_metric([], active_sessions)
        extra.register(_Fixed([sessions]))
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this worker's live gauges (multi-process mode) when it shuts down."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class HttpMetrics:
    """Request counter and latency histogram, with label children cached (hot path)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        counter = self._counts.get(key)
        if counter is None:
            counter = self._counts[key] = HTTP_REQUESTS.labels(route, method, str(status))
        counter.inc()
        latency = self._latency.get((route, method))
        if latency is None:
            latency = self._latency[(route, method)] = HTTP_LATENCY.labels(route, method)
        latency.observe(seconds)
