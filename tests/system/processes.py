"""Child processes for system tests (nginx, the example API): bound to 127.0.0.1 by their
arguments, killed afterwards, and ended by `timeout(1)` after `lifetime` seconds even if the
test run itself dies."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx


class BoundedProcess:
    def __init__(
        self,
        args: list[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        lifetime: int = 180,
    ) -> None:
        self.log = log
        self._log_handle = log.open("ab")
        self.process = subprocess.Popen(
            ["timeout", "--kill-after=5", str(lifetime), *args],
            env=env,
            cwd=cwd,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it with its children
        )

    def wait_for(self, url: str, *, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{url}: process exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{url} not ready in {timeout}s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log_handle.close()

    def __enter__(self) -> BoundedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
