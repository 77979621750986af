"""Real `gatepass serve` processes for tests: 127.0.0.1, a free port, bounded waits."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli_zygote import shim


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gatepass_env(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEPASS_")}
    env.update(
        {
            "GATEPASS_HOME": str(home),
            "GATEPASS_ARGON2_MEMORY_COST": "1024",
            "GATEPASS_ARGON2_TIME_COST": "1",
        }
    )
    env.update(extra)
    return env


def gatepass(
    *args: str, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`gatepass ARGS` as a process (forked from the pre-imported zygote, tests/cli_zygote.py;
    `serve` is the real console script)."""
    return subprocess.run(
        [str(shim()), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class PortTaken(RuntimeError):
    """The server could not bind its port: another process took it after `free_port()`."""


class Server:
    """`gatepass serve` on 127.0.0.1. With `wait=False` the process is started but not waited
    for: start several that way, then `wait_ready()` each, so that their start-ups (mostly
    imports, CPU-bound) overlap instead of running one after the other."""

    def __init__(
        self, env: dict[str, str], port: int | None = None, workers: int = 1, *, wait: bool = True
    ) -> None:
        self._fixed_port = port
        self._start(env, port or free_port(), workers)
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        # A port from free_port() is free when chosen, not when bound: a test on another
        # xdist worker may take it meanwhile. Then start once more on another port.
        try:
            self._wait_ready(timeout=30)
        except PortTaken:
            self._log_handle.close()
            if self._fixed_port is not None:
                raise
            self._start(self._env, free_port(), self._workers)
            self._wait_ready(timeout=30)

    def _start(self, env: dict[str, str], port: int, workers: int) -> None:
        self._env, self._workers = env, workers
        self._terminating = False
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["GATEPASS_HOME"]).parent / f"server-{self.port}.log"
        self._log_handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gatepass.cli.main",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log.read_text()[-2000:]
                if "address already in use" in output.lower():
                    raise PortTaken(output)
                raise RuntimeError(f"server exited: {output}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
                # A server of ours that lost its port to another one has usually exited by now.
                if ready and self.process.poll() is None:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready in {timeout}s: {self.log.read_text()[-2000:]}")

    def terminate(self) -> None:
        """Ask the server to stop (once: uvicorn takes a second SIGTERM as "force") without
        waiting, so that several stop at the same time; `stop()` then waits."""
        if self.process.poll() is None and not self._terminating:
            self._terminating = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log_handle.close()
        return self.process.returncode

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
