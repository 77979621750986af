"""The SDK stands alone: importing it loads none of the server's modules or dependencies, and
its own distribution (clients/python, gatepass-client) installs into a fresh virtual
environment with httpx as its only dependency."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_SIDE = ("gatepass.core", "gatepass.http", "gatepass.adapters", "gatepass.app",
               "gatepass.config", "gatepass.cli")  # fmt: skip
# (Not rich: httpx itself imports it when it happens to be installed, for its own CLI.)
HEAVY = ("starlette", "sqlalchemy", "pydantic", "alembic", "redis", "jwt", "argon2", "typer",
         "uvicorn", "limits", "orjson", "cryptography")  # fmt: skip

PROBE = f"""
import json, sys
import gatepass.client
from gatepass.client import AsyncClient, Client, GatepassAuth
server = {SERVER_SIDE!r}
loaded = [m for m in sys.modules
          if m in server or m.startswith(tuple(s + "." for s in server))
          or m.split(".")[0] in {HEAVY!r}]
print(json.dumps(loaded))
"""


def test_importing_the_sdk_loads_no_server_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_the_package_root_needs_no_server_dependency() -> None:
    probe = (
        "import sys, gatepass; print(sorted(m for m in sys.modules if m.startswith('gatepass')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "['gatepass']"


@pytest.mark.slow
def test_gatepass_client_distribution_installs_alone(tmp_path: Path) -> None:
    # A copy with the link to src/gatepass/client resolved, so the build writes nothing into
    # the repository.
    source = tmp_path / "gatepass-client"
    shutil.copytree(ROOT / "clients" / "python", source, symlinks=False)
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    names = {item["name"].lower() for item in json.loads(listed.stdout)}
    assert {"gatepass-client", "httpx"} <= names
    assert "gatepass" not in names
    assert names.isdisjoint({"starlette", "sqlalchemy", "pydantic", "pyjwt", "typer"})
    probe = subprocess.run(
        [str(python), "-c", PROBE], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == []
