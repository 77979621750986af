"""gatepass's HTTP/1.1 protocol (src/gatepass/http/server.py) in process, over real sockets:
the exact size boundary, the timer, keep-alive; and the guard on the uvicorn internals it is
built on. The same limits against a real `gatepass serve`: test_connection_limits.py."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import re
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gatepass.config import Settings
from gatepass.http.server import BoundedHttpToolsProtocol, HeaderLimits, serve_options

LIMIT = 8192
TIMEOUT = 0.5
ROOT = Path(__file__).resolve().parents[2]

# The uvicorn methods BoundedHttpToolsProtocol copies (data_received) or overrides and calls,
# and those whose behaviour it relies on (keep-alive timer handling), as read from uvicorn's
# source when the subclass was written against the pinned version.
UVICORN_SOURCES = {
    "data_received": "010a7ae59a5d3b1a",
    "on_message_begin": "96d377fdc7c2baef",
    "on_headers_complete": "1ea8589acfad92d8",
    "connection_lost": "c91a4c9bf2e29c55",
    "_unset_keepalive_if_required": "00a6a4e47214e68e",
    "send_400_response": "ae5a4a3782b646fd",
}


def test_uvicorn_is_the_pinned_version_the_protocol_was_written_against() -> None:
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = next(p for p in pins if p.startswith("uvicorn"))
    assert pinned == f"uvicorn[standard]=={uvicorn.__version__}" == "uvicorn[standard]==0.54.0"


@pytest.mark.parametrize("method", sorted(UVICORN_SOURCES))
def test_uvicorn_internals_the_protocol_relies_on_are_unchanged(method: str) -> None:
    source = inspect.getsource(getattr(HttpToolsProtocol, method))
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert digest == UVICORN_SOURCES[method], (
        f"uvicorn's HttpToolsProtocol.{method} changed: review src/gatepass/http/server.py "
        "against the new uvicorn before updating this digest"
    )


def test_serve_options_carry_the_settings() -> None:
    settings = Settings.model_validate(
        {"max_header_bytes": 10_000, "header_timeout": "3s", "max_connections": 7}
    )
    options = serve_options(settings)
    assert options["limit_concurrency"] == 8  # 7 served, the 8th answered 503
    protocol = options["http"]
    assert protocol.func is BoundedHttpToolsProtocol
    assert protocol.keywords == {"limits": HeaderLimits(max_bytes=10_000, timeout=3.0)}
    assert (options["loop"], options["server_header"]) == ("uvloop", False)


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    body = json.dumps({"path": scope["path"], "headers": len(scope["headers"])}).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    config = uvicorn.Config(_hello, log_config=None, proxy_headers=False, timeout_keep_alive=3)
    config.load()
    state = ServerState()
    limits = HeaderLimits(max_bytes=LIMIT, timeout=TIMEOUT)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: BoundedHttpToolsProtocol(
            config=config, server_state=state, app_state={}, limits=limits
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for connection in list(state.connections):
            connection.transport.close()


async def _exchange(port: int, *parts: bytes, pause: float = 0.0) -> tuple[bytes, float]:
    """Send `parts` (pausing between them) while reading until the server closes; returns what
    was read and how long after the first byte the server ended the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()

    async def read_all() -> tuple[bytes, float]:
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        return answer, time.monotonic() - began

    reading = asyncio.create_task(read_all())
    try:
        for part in parts:
            if reading.done():
                break
            writer.write(part)
            await writer.drain()
            if pause:
                await asyncio.sleep(pause)
    except OSError:
        pass  # the server closed while we were still sending: its answer is read below
    try:
        return await reading
    finally:
        writer.close()


def _head(size: int) -> bytes:
    """A request head of exactly `size` bytes (canonical `Name: value` lines)."""
    start = b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Pad: "
    return start + b"a" * (size - len(start) - 4) + b"\r\n\r\n"


def _status(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


@pytest.mark.parametrize("pieces", [1, 7])
async def test_a_head_of_exactly_the_limit_is_served_one_byte_more_is_431(
    port: int, pieces: int
) -> None:
    for size, expected in ((LIMIT, 200), (LIMIT + 1, 431)):
        head = _head(size)
        step = -(-len(head) // pieces)
        parts = [head[i : i + step] for i in range(0, len(head), step)]
        answer, _ = await _exchange(port, *parts, pause=0.02 if pieces > 1 else 0.0)
        assert _status(answer) == expected, (size, pieces)
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body == {
        "error": "request_too_large",
        "error_description": f"request line and headers exceed {LIMIT} bytes",
    }
    assert b"\r\nconnection: close\r\n" in answer.lower()


async def test_a_long_request_line_counts_too(port: int) -> None:
    answer, _ = await _exchange(port, b"GET /" + b"a" * LIMIT + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert _status(answer) == 431


async def test_a_trickled_head_is_cut_at_the_timeout_from_its_first_byte(port: int) -> None:
    lines = [b"GET /x HTTP/1.1\r\n"] + [b"X-Slow: 1\r\n"] * 20
    answer, elapsed = await _exchange(port, *lines, pause=TIMEOUT / 5)
    assert _status(answer) == 408
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {
        "error": "request_timeout",
        "error_description": f"request headers not received within {TIMEOUT:g} s",
    }
    assert TIMEOUT <= elapsed < TIMEOUT + 1.0


async def test_keep_alive_idle_is_not_cut_by_the_header_timer(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(2):
            writer.write(b"GET /again HTTP/1.1\r\nHost: t\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            assert _status(head) == 200
            length = re.search(rb"content-length: (\d+)", head.lower())
            assert length is not None
            assert b'"path": "/again"' in await reader.readexactly(int(length.group(1)))
            await asyncio.sleep(TIMEOUT * 3)  # idle: longer than the header timeout
    finally:
        writer.close()


async def test_blank_lines_do_not_hold_an_idle_connection_open(port: int) -> None:
    # Each byte cancels uvicorn's keep-alive timer; the header timer must end it instead.
    answer, elapsed = await _exchange(port, *[b"\r\n"] * 40, pause=TIMEOUT / 5)
    assert _status(answer) == 408
    assert elapsed < TIMEOUT + 1.0
