"""The core, and the core's own tests, import no web framework, SQL toolkit or HTTP client."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import gatepass.core

FORBIDDEN_IN_CORE = (
    "starlette",
    "fastapi",
    "sqlalchemy",
    "httpx",
    "uvicorn",
    "aiosqlite",
    "asyncpg",
    "redis",
    "typer",
)
WEB_FRAMEWORKS = ("starlette", "fastapi", "uvicorn")
ROOT = Path(__file__).resolve().parents[2]


def _imported_after(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    script = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in modules)
        + f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {roots!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_core_modules_import_nothing_forbidden():
    modules = [f"gatepass.core.{m.name}" for m in pkgutil.iter_modules(gatepass.core.__path__)]
    assert "gatepass.core.service" in modules
    assert _imported_after(modules, FORBIDDEN_IN_CORE) == []


def test_core_tests_import_no_web_framework():
    tests = sorted(p.stem for p in (ROOT / "tests" / "core").glob("test_*.py"))
    assert "test_token_attacks" in tests
    modules = ["tests.conftest", *(f"tests.core.{name}" for name in tests)]
    assert _imported_after(modules, WEB_FRAMEWORKS) == []
