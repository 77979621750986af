"""panva's `openid-client` (npm) as a relying party the tests drive.

The packages are installed with `npm ci` from the committed `tests/browser/node/package-lock.json`
into a throwaway folder keyed on that lock file's hash: under pytest's cache directory when the
cache is enabled, else under the system temporary directory. A second run (or a second xdist
worker) reuses it; a changed lock file installs afresh. A file lock keeps two workers from
installing into the same folder at once. Outside CI, a machine without node or npm skips these
tests; under CI=true it fails them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"
DRIVER = "openid_client_rp.mjs"
INSTALL_TIMEOUT = 180


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI (Node 20+ and npm)")
    pytest.skip(f"{what} is not installed")


def install_relying_party(config: pytest.Config) -> Path:
    """The folder holding node_modules/openid-client and the driver script."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            _missing(tool)
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    key = "openid-client-" + hashlib.sha256(lock).hexdigest()[:16]
    cache = getattr(config, "cache", None)
    base = cache.mkdir("npm") if cache is not None else Path(tempfile.gettempdir())
    folder = Path(base) / key
    folder.mkdir(parents=True, exist_ok=True)
    with (Path(base) / f"{key}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        for name in ("package.json", "package-lock.json", DRIVER):
            shutil.copyfile(NODE_DIR / name, folder / name)
        if not (folder / "node_modules" / "openid-client" / "package.json").exists():
            installed = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
            if installed.returncode != 0:
                pytest.fail(f"npm ci of openid-client failed: {installed.stderr[-2000:]}")
    return folder


class OpenIdClient:
    """One registered client, as openid-client sees it."""

    def __init__(self, folder: Path, **settings: Any) -> None:
        self.folder = folder
        self.settings = settings

    def _run(self, step: str, **values: Any) -> dict[str, Any]:
        done = subprocess.run(
            ["node", DRIVER, step, json.dumps({**self.settings, **values})],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.stdout, done.stderr
        result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        assert (done.returncode == 0) == ("error" not in result), done.stderr
        return result

    def start(self, **extra: str) -> dict[str, Any]:
        """Discovery + buildAuthorizationUrl: `url`, `verifier`, `state`, `nonce`, `server`."""
        started = self._run("start", extra=extra)
        assert "error" not in started, started
        return started

    def finish(self, started: dict[str, Any], callback: str, **values: Any) -> dict[str, Any]:
        """authorizationCodeGrant + fetchUserInfo + refreshTokenGrant, or `{"error": ...}`."""
        return self._run(
            "finish",
            callback=callback,
            verifier=started["verifier"],
            state=started["state"],
            nonce=started["nonce"],
            **values,
        )
