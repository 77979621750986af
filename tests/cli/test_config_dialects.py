"""`gatepass config show` shows each dialect's settings block in the file's shape (issue 16),
every field of every block, with where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

from gatepass.dialect_settings import DIALECT_BLOCKS
from tests.cli.tree import invoke


def _rows(stdout: str) -> dict[str, list[str]]:
    cells = [[cell.strip() for cell in line.split("│")[1:4]] for line in stdout.splitlines()]
    return {row[0]: row[1:] for row in cells if len(row) == 3 and row[0]}


def test_the_json_has_one_table_per_dialect(tmp_path: Path) -> None:
    env = {
        "GATEPASS_HOME": str(tmp_path),
        "GATEPASS_DIALECTS": "datarhei",
        "GATEPASS_DIALECTS__DATARHEI__FAILURE_DELAY": "5s",
    }
    result = invoke(["config", "show", "--json"], env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["dialects"]
    assert set(shown) == {"enabled", *DIALECT_BLOCKS}
    assert shown["enabled"] == ["datarhei"]
    for dialect, block in DIALECT_BLOCKS.items():
        assert set(shown[dialect]) == set(block.model_fields)
    assert shown["datarhei"]["failure_delay"] == 5
    assert shown["datarhei"]["access_ttl"] == 600  # whole seconds: 600, not 600.0


def test_the_table_has_a_row_per_field_with_its_source(tmp_path: Path) -> None:
    config = tmp_path / "gatepass.toml"
    config.write_text('[dialects]\nenabled = "all"\n[dialects.osais]\ntoken_ttl = "1h"\n')
    env = {
        "GATEPASS_HOME": str(tmp_path),
        "GATEPASS_DIALECTS__DATARHEI__FAILURE_DELAY": "5s",
        "GATEPASS_XPAY_TOKEN_TTL": "2h",  # the deprecated spelling still counts
    }
    result = invoke(["--config", str(config), "config", "show"], env)
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    for dialect, block in DIALECT_BLOCKS.items():
        for name in block.model_fields:
            assert f"dialects.{dialect}.{name}" in rows
    assert rows["dialects.osais.token_ttl"] == ["3600", "file"]
    assert rows["dialects.datarhei.failure_delay"] == ["5", "env"]
    assert rows["dialects.xpay.token_ttl"] == ["7200", "env"]
    assert rows["dialects.unduit.token_ttl"] == ["14400", "default"]
    assert rows["dialects"][1] == "file"
    assert "osais_token_ttl" not in rows
    assert "xpay_token_ttl" not in rows
