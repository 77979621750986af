"""A pre-imported `gatepass` for the tests' CLI processes (the docs examples and `gatepass()`).

Each `gatepass` command the suite runs as a process used to spend ~0.6 s of CPU importing
SQLAlchemy, pydantic, Typer and Rich before doing milliseconds of work, and the suite runs
hundreds of them. Here one *zygote* process per test process imports the CLI once; a tiny shim
named `gatepass` (put first on PATH) hands its argv, environment, working directory and its
own stdin/stdout/stderr descriptors to the zygote over a Unix socket, the zygote forks, and the
child runs the CLI's `main()` on those descriptors exactly as the real console script would,
then exits with its status, which the shim exits with. So a test still sees a real process
with real file descriptors, exit status, environment and working directory, only without the
imports. `gatepass serve` is never forked (its workers, signals and process group matter): the
shim execs the real console script for it, and for everything when the zygote is not there.

The Rich consoles are built at import from the environment (NO_COLOR, FORCE_COLOR); the child
builds them again from its own (`_fresh_consoles`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The shim: started by bash or subprocess for every `gatepass` call, so it imports nothing but
# what it needs (`python -S`: no site-packages; ~15 ms).
_SHIM = """#!{python} -S
import array, json, os, signal, socket, sys
real, path = {real!r}, {sock!r}
argv = sys.argv[1:]
if argv[:1] == ["serve"] or not os.path.exists(path):
    os.execv(real, [real, *argv])
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    conn.connect(path)
except OSError:
    os.execv(real, [real, *argv])
payload = json.dumps({{"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}}).encode()
socket.send_fds(conn, [len(payload).to_bytes(8, "big") + payload], [0, 1, 2])
answer = b""
while not answer.endswith(b"\\n"):
    chunk = conn.recv(64)
    if not chunk:
        sys.exit(70)
    answer += chunk
child = int(answer)
def forward(signum, frame):
    os.kill(child, signum)
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(signum, forward)
status = b""
while not status.endswith(b"\\n"):
    chunk = conn.recv(64)
    if not chunk:
        sys.exit(70)
    status += chunk
code = int(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def _fresh_consoles() -> None:
    from rich.console import Console

    from gatepass.cli import common

    for name in ("out", "err"):
        old = getattr(common, name)
        fresh = Console(stderr=old.stderr, highlight=False, soft_wrap=True)
        old.__dict__.clear()
        old.__dict__.update(fresh.__dict__)


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the command's process, run the CLI, exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["gatepass", *request["argv"]]
    code = 0
    try:
        _fresh_consoles()
        from gatepass.cli.main import main

        main()
    except SystemExit as done:
        if done.code is None:
            code = 0
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve(path: str, parent: int) -> None:
    """The zygote: import the CLI, then fork a child per request until the parent is gone."""
    import gatepass.cli.main  # noqa: F401  (the point: imported once, before any fork)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    waiting: dict[int, int] = {}  # pidfd -> pid
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=1.0):
            if key.data is None:
                conn, _ = listener.accept()
                try:
                    _start(conn, listener, selector, waiting)
                except OSError:
                    conn.close()
            else:
                pidfd, conn = key.data
                selector.unregister(key.fileobj)
                os.close(pidfd)
                _, status = os.waitpid(waiting.pop(pidfd), 0)
                with contextlib.suppress(OSError):  # the shim was killed: nobody to tell
                    conn.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
                conn.close()


def _start(
    conn: socket.socket,
    listener: socket.socket,
    selector: selectors.BaseSelector,
    waiting: dict[int, int],
) -> None:
    header, fds, _, _ = socket.recv_fds(conn, 8, 3)
    size = int.from_bytes(header, "big")
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise OSError("the shim went away")
        body += chunk
    request = json.loads(body)
    pid = os.fork()
    if pid == 0:
        selector.close()
        listener.close()
        conn.close()
        _child(request, fds)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    waiting[pidfd] = pid
    selector.register(pidfd, selectors.EVENT_READ, (pidfd, conn))
    conn.sendall(b"%d\n" % pid)


class Zygote:
    """One per test process, started on first use, stopped at exit."""

    _instance: Zygote | None = None

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gatepass-zygote-"))
        self.socket = str(self.dir / "zygote.sock")
        real = shutil.which("gatepass", path=str(Path(sys.executable).parent))
        assert real is not None, "gatepass is not installed in this virtualenv"
        self.shim = self.dir / "gatepass"
        self.shim.write_text(_SHIM.format(python=sys.executable, real=real, sock=self.socket))
        self.shim.chmod(0o755)
        root = Path(__file__).resolve().parents[1]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.cli_zygote import serve; "
                "serve(sys.argv[1], int(sys.argv[2]))",
                self.socket,
                str(os.getpid()),
            ],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")},
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the gatepass zygote did not start")
            time.sleep(0.02)
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> Zygote:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def shim() -> Path:
    """The `gatepass` to run: the shim of this process's zygote."""
    return Zygote.get().shim


def shim_dir() -> Path:
    """A directory to put first on PATH so that `gatepass` is the shim."""
    return Zygote.get().dir
