"""A temporary gatepass home for in-process CLI tests (typer's CliRunner)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GATEPASS_HOME", str(tmp_path / "var"))
    monkeypatch.setenv("GATEPASS_ARGON2_MEMORY_COST", "1024")
    monkeypatch.setenv("GATEPASS_ARGON2_TIME_COST", "1")
    return tmp_path / "var"
