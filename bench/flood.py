"""The login flood's login side: password logins offered at a fixed rate (open loop).

wrk keeps a fixed number of connections busy, so it cannot offer "4× the argon2 rate", and its
Lua hooks cannot time a response or tell which status a latency belongs to. This client
schedules one login every 1/rate seconds, whatever the server does, hands each to one of a pool
of keep-alive connections, and records every answer's status, Retry-After and latency.

It speaks HTTP/1.1 over plain asyncio streams rather than through httpx: it shares the two
cores with the servers, and a full HTTP client costs several times the CPU per request, which
showed up as seconds of client-side delay in the measured latencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field


@dataclass
class FloodLog:
    started: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    ok_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    refused_with_retry_after: int = 0
    # How late requests left the client after their scheduled time (client saturation).
    lag_ms: list[float] = field(default_factory=list)

    def record(self, status: int, headers: dict[str, str], elapsed_ms: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.ok_ms.append(elapsed_ms)
        elif status == 503:
            self.refused_ms.append(elapsed_ms)
            self.refused_with_retry_after += "retry-after" in headers


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * p // 100)))
    return ordered[int(rank) - 1]


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status and headers (names lower-cased) of an HTTP/1.1 response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


def login_request(host: str, port: int, body: str) -> bytes:
    payload = body.encode()
    return (
        f"POST /auth/login HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[str, str]]:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status, headers = parse_head(head[:-4])
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def _connection(
    host: str, port: int, request: bytes, queue: asyncio.Queue[float | None], log: FloodLog
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (due := await queue.get()) is not None:
            began = time.perf_counter()
            log.lag_ms.append((began - due) * 1000)
            try:
                status, headers = await _exchange(reader, writer, request)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, headers = 0, {}  # no answer at all: counted as unexpected
            log.record(status, headers, (time.perf_counter() - began) * 1000)
            if status == 0 or headers.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _flood(
    host: str, port: int, body: str, rate: float, seconds: float, connections: int
) -> FloodLog:
    log = FloodLog()
    request = login_request(host, port, body)
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    workers = [
        asyncio.create_task(_connection(host, port, request, queue, log))
        for _ in range(connections)
    ]
    await asyncio.sleep(0.2)  # let the connections open before the clock starts
    started = time.perf_counter()
    interval = 1 / rate
    while (now := time.perf_counter()) - started < seconds:
        due = started + log.started * interval
        if now < due:
            await asyncio.sleep(due - now)
            continue
        queue.put_nowait(due)
        log.started += 1
    log.seconds = time.perf_counter() - started
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return log


def flood(
    host: str, port: int, body: str, rate: float, seconds: float, connections: int = 64
) -> FloodLog:
    """Offer `rate` logins/s for `seconds` over `connections` keep-alive connections."""
    return asyncio.run(_flood(host, port, body, rate, seconds, connections))
