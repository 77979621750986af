"""Server processes: starting them in their own process group, waiting for them, reading their
CPU time and memory from /proc, and killing the whole group at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat we use (times in clock ticks)."""

    pid: int
    ppid: int
    utime: int
    stime: int


def parse_stat(text: str) -> ProcStat:
    """Parse /proc/<pid>/stat. The command name (field 2) is in parentheses and may contain
    spaces or parentheses itself, so split after the *last* `)`."""
    pid_part, _, rest = text.rpartition(")")
    pid = int(pid_part.split("(", 1)[0])
    fields = rest.split()
    # rest starts at field 3 (state): ppid is field 4, utime 14, stime 15.
    return ProcStat(pid=pid, ppid=int(fields[1]), utime=int(fields[11]), stime=int(fields[12]))


def parse_rss_kb(status_text: str) -> int | None:
    """VmRSS from /proc/<pid>/status, in kB (None for a zombie / kernel thread)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def _all_stats() -> list[ProcStat]:
    stats = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stats.append(parse_stat((entry / "stat").read_text()))
    return stats


def descendants(root: int) -> list[int]:
    """`root` and every process below it (uvicorn's workers, node's cluster workers, the
    multiprocessing helpers), found through the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for stat in _all_stats():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by `root`'s process tree."""
    total = 0
    for pid in descendants(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = parse_stat(Path(f"/proc/{pid}/stat").read_text())
            total += stat.utime + stat.stime
    return total / CLOCK_TICKS


def rss_kb(pid: int) -> int | None:
    try:
        return parse_rss_kb(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return None


def _is_helper(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return b"resource_tracker" in cmdline


@dataclass
class Server:
    """A started server: its process (the group leader) and where it listens."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The processes that serve requests: the supervisor's descendants, without
        multiprocessing's resource tracker (a helper that never sees a request)."""
        return [
            pid
            for pid in descendants(self.process.pid)
            if pid != self.process.pid and not _is_helper(pid)
        ]

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    name: str, argv: list[str], env: Mapping[str, str], log: Path, port: int, cwd: Path
) -> Server:
    """Start `argv` in a new session (its own process group, so that stopping it stops every
    worker it forked) and wait until it accepts connections on 127.0.0.1:`port`."""
    handle = log.open("ab")
    process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
        argv,
        env=dict(env),
        cwd=cwd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    server = Server(name, process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        if reachable("127.0.0.1", port, timeout=0.5):
            return server
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"{name} did not listen on port {port} within 60 s; see {log}")


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 10 s."""
    pgid = server.process.pid  # the session leader: its pid is the group id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)
    # Workers may outlive the supervisor for a moment; make sure nothing in the group stays.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=5)


@dataclass
class RssSamples:
    """Resident memory of each worker over time: (seconds since start, {pid: kB})."""

    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)


@contextlib.contextmanager
def sample_rss(server: Server, interval_s: float) -> Iterator[RssSamples]:
    """Sample every worker's VmRSS every `interval_s` seconds while the block runs."""
    result = RssSamples()
    stopped = threading.Event()
    started = time.monotonic()

    def loop() -> None:
        while True:
            row = {pid: kb for pid in server.workers() if (kb := rss_kb(pid)) is not None}
            result.samples.append((time.monotonic() - started, row))
            if stopped.wait(interval_s):
                return

    thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stopped.set()
        thread.join()


@dataclass(frozen=True)
class MemorySummary:
    steady_mb_per_worker: float
    growth_mb: float
    max_mb: float
    samples: int


def summarise_rss(
    samples: list[tuple[float, dict[int, int]]], warmup_s: float, window_s: float
) -> MemorySummary | None:
    """Steady RSS per worker (median over samples after warm-up of the per-worker mean) and
    growth: median of the last `window_s` seconds minus the median of the first `window_s`
    seconds after warm-up. None without enough samples."""
    points = [(t, statistics.fmean(row.values()) / 1024) for t, row in samples if row]
    steady = [(t, mb) for t, mb in points if t >= warmup_s]
    if len(steady) < 2:
        return None
    first_end = steady[0][0] + window_s
    last_start = steady[-1][0] - window_s
    first = [mb for t, mb in steady if t <= first_end]
    last = [mb for t, mb in steady if t >= last_start]
    maximum = max(kb for _, row in samples for kb in row.values()) / 1024
    return MemorySummary(
        steady_mb_per_worker=statistics.median(mb for _, mb in steady),
        growth_mb=statistics.median(last) - statistics.median(first),
        max_mb=maximum,
        samples=len(steady),
    )
