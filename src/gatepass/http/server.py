"""How `gatepass serve` runs uvicorn, and the HTTP/1.1 protocol that bounds each connection.

uvicorn's httptools protocol puts no limit on a request's head: httptools concatenates a header
value for as long as its bytes keep coming, so one connection sending a 400 MB header holds
400 MB (and copies it quadratically), and a connection that sends half a request line waits
forever. `BoundedHttpToolsProtocol` adds two bounds to it, measured per request:

- **size** (`max_header_bytes`): the request line and headers, counted as the bytes read from
  the socket from the request's first byte until its head is complete. Past the limit the
  client gets `431` and the connection is closed; the parser never holds more than the limit
  plus one socket read.
- **time** (`header_timeout`): a timer armed at the request's first byte and never moved, so
  trickling one header line at a time does not extend it; when it fires the client gets `408`
  and the connection is closed. An idle keep-alive connection is uvicorn's own
  `timeout_keep_alive`; this timer starts only with the next request's first byte.

The common request — its whole head in one read — costs a few attribute checks (about 1 µs,
docs/performance.md) and no timer: a timer is armed only when a head stays incomplete after a
read. Why a subclass and
not the h11 parser or another server: docs/decisions.md, "Bounded connections".

The subclass relies on uvicorn's private protocol internals (attribute and method names, and
`data_received`, of which this is a copy with two additions); uvicorn is pinned with `==` and
tests/system/test_connection_limits.py fails loudly when those internals change.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gatepass.config import Settings
from gatepass.http.middleware import API_SECURITY_HEADERS
from gatepass.observability.logs import logging_config

log = logging.getLogger("gatepass.http")

# After a refusal the client may still be sending the rest of its request; closing a socket with
# unread data makes the kernel send a reset, which can destroy the response before the client
# reads it. So the refusal is sent, the write side shut, and the rest read and dropped for a
# short while (nginx's "lingering close"), at most this long and this many bytes. The byte bound
# is above what Linux may already hold in the two socket buffers of a loopback or LAN
# connection (autotuned to several MiB each): a smaller bound closed while the kernel still held
# the client's earlier bytes, and the reset that followed lost the answer (seen with twenty
# clients sending 10 MB heads at once on a loaded machine). Dropping bytes costs no memory.
LINGER_SECONDS = 2.0
LINGER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class HeaderLimits:
    max_bytes: int
    timeout: float


class _HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing a refused request's remaining bytes."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and a time limit on every request head."""

    def __init__(self, *args: Any, limits: HeaderLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.head_pending = False  # between a request's first byte and its complete head
        self.head_bytes = 0  # bytes of the current head read before the current read
        self.read_bytes = 0  # size of the read being parsed
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self.read_bytes = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.refused:  # a callback refused the request and answered it already
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.head_pending:
            # Everything read since the head began (a read that also held the end of a
            # pipelined request before it is counted whole: an overestimate by less than one
            # read, for a kind of client that hardly exists).
            self.head_bytes += len(data)
            if self.head_bytes > self.limits.max_bytes:
                self._refuse_too_large()
            elif self.head_timer is None:
                self._arm_head_timer()
        elif self.head_timer is None and (self.cycle is None or self.cycle.response_complete):
            # Bytes that began no request (blank lines, or the rest of a body whose answer was
            # already sent) cancelled uvicorn's keep-alive timer above; without a timer of our
            # own such a trickle would hold the connection forever.
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    # -- httptools callbacks ---------------------------------------------------------------

    # The two callbacks run for every request: the base class is named, not found by super().
    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self.head_pending = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.head_pending = False
        if self.head_timer is not None:
            self._cancel_head_timer()
        # Only a head that spanned reads or arrived in one very large read can be too large;
        # for those, measure the parsed head itself.
        if self.head_bytes + self.read_bytes > self.limits.max_bytes and (
            self._parsed_head_bytes() > self.limits.max_bytes
        ):
            self._refuse_too_large()
            raise _HeadRefused
        HttpToolsProtocol.on_headers_complete(self)

    # -- the limits ------------------------------------------------------------------------

    def _parsed_head_bytes(self) -> int:
        """The head's size as sent, less optional whitespace: `METHOD url HTTP/1.1`, each
        `name: value` line and the blank line."""
        size = len(self.parser.get_method()) + len(self.url) + len(" HTTP/1.1\r\n") + 3
        return size + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _arm_head_timer(self) -> None:
        self.head_timer = self.loop.call_later(self.limits.timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing():
            seconds = f"{self.limits.timeout:g}"
            self._refuse(408, f"request headers not received within {seconds} s")

    def _refuse_too_large(self) -> None:
        self._refuse(431, f"request line and headers exceed {self.limits.max_bytes} bytes")

    def _refuse(self, status: int, description: str) -> None:
        """Answer `status` (unless a response is being written: never interleave two) and end
        the connection with a lingering close."""
        self.refused = True
        self._cancel_head_timer()
        self._unset_keepalive_if_required()
        client = self.client[0] if self.client else None
        log.warning(
            "connection refused: %s",
            description,
            extra={"fields": {"status": status, "client": client}},
        )
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(self._refusal(status, description))
        # Hand the socket to a protocol that only drops what still arrives: uvicorn no longer
        # counts it as a connection, and this protocol's parser is never fed again.
        self.connections.discard(self)
        if self.cycle is not None:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        _Lingering.take_over(self.transport, self.loop)

    def _refusal(self, status: int, description: str) -> bytes:
        body = orjson.dumps(
            {
                "error": "request_too_large" if status == 431 else "request_timeout",
                "error_description": description,
            }
        )
        lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(),
            b"cache-control: no-store",
            b"connection: close",
        ]
        lines += [name + b": " + value for name, value in API_SECURITY_HEADERS]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _Lingering(asyncio.Protocol):
    """A refused connection's last moments: the answer is flushed and the write side shut,
    what the client still sends is dropped, and the socket is closed when the client closes,
    or after `LINGER_SECONDS` or `LINGER_BYTES`, whichever comes first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.dropped = 0
        self.timer = loop.call_later(LINGER_SECONDS, transport.close)

    @classmethod
    def take_over(cls, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        protocol = cls(transport, loop)
        transport.set_protocol(protocol)
        if transport.can_write_eof():
            transport.write_eof()
        transport.resume_reading()  # uvicorn may have paused it for a pipelined request

    def data_received(self, data: bytes) -> None:
        self.dropped += len(data)
        if self.dropped > LINGER_BYTES:
            self.transport.close()

    def eof_received(self) -> bool:
        self.transport.close()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()


def serve_options(config: Settings) -> dict[str, Any]:
    """The keyword arguments of `uvicorn.run` for `gatepass serve` (and the benchmark)."""
    limits = HeaderLimits(max_bytes=config.max_header_bytes, timeout=config.header_timeout)
    # A partial of a module-level class survives the pickling that uvicorn's worker
    # processes need; uvicorn calls it like a protocol class.
    protocol = functools.partial(BoundedHttpToolsProtocol, limits=limits)
    return {
        "loop": "uvloop",
        "http": cast("type[asyncio.Protocol]", protocol),
        # uvicorn answers 503 once it holds `limit_concurrency` connections (the one asking
        # included): +1 so that `max_connections` connections are served.
        "limit_concurrency": config.max_connections + 1,
        "server_header": False,
        "access_log": False,
        "proxy_headers": False,
        "log_config": logging_config(config.log_format, config.log_level, config.log_requests),
        "log_level": config.log_level,
        "timeout_graceful_shutdown": 10,
    }


# -- the workers' memory allocator ------------------------------------------------------------

# An argon2id hash allocates its whole working memory (`argon2_memory_cost`, 19 MiB by default)
# with malloc and frees it at the end. glibc serves the first such block with mmap, then raises
# its mmap threshold to that size ("dynamic threshold"), so every later block comes from the
# hashing thread's heap and stays resident after the hash: ~19 MiB per hashing thread, per
# worker, for the life of the process (measured: 2 workers × 2 hashing threads, +38 MB per
# worker after the first logins). A fixed threshold keeps hashing memory in mmap'd blocks,
# returned to the kernel when each hash ends; transparent huge pages for those blocks
# (`hugetlb=1`, i.e. madvise(MADV_HUGEPAGE)) keep the cost of faulting 19 MiB in at ~10 faults
# instead of ~4,900, so a hash costs no more CPU than with resident memory (measured: 30 vs
# 33 ms of CPU per verify; without huge pages 41 ms, which is why nothing is changed where the
# kernel has them disabled). glibc reads these at process start, so they are set in the
# environment that `gatepass serve` hands to its worker processes. docs/decisions.md, "Worker
# memory".
MMAP_THRESHOLD_BYTES = 1024 * 1024
MALLOC_TUNABLES = {
    "glibc.malloc.mmap_threshold": str(MMAP_THRESHOLD_BYTES),
    "glibc.malloc.hugetlb": "1",
}
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def huge_pages_available(setting: Path = THP_SETTING) -> bool:
    """Whether the kernel can back an madvise'd mapping with transparent huge pages."""
    try:
        text = setting.read_text()
    except OSError:
        return False
    return "[always]" in text or "[madvise]" in text


def malloc_tunables(environ: Mapping[str, str], huge_pages: bool) -> str | None:
    """The GLIBC_TUNABLES value for the workers, or None to leave it as it is: the operator's
    own tunables are kept and win over ours, and without huge pages nothing is added."""
    current = environ.get("GLIBC_TUNABLES", "")
    if not huge_pages:
        return None
    given = {item.split("=", 1)[0] for item in current.split(":") if item}
    added = [f"{name}={value}" for name, value in MALLOC_TUNABLES.items() if name not in given]
    if not added:
        return None
    return ":".join([item for item in current.split(":") if item] + added)
