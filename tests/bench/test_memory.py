"""`python -m bench.memory`: what its workers report, and how the report reads it.

The measurement itself (RSS of real `gatepass serve` workers) is the bench's job, not a unit
test's; these check that the numbers it prints come from where they should."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bench import memory


def test_a_worker_reports_its_pid_rss_and_modules() -> None:
    response = asyncio.run(memory.memory(None))  # type: ignore[arg-type]  # request unused
    answer = json.loads(bytes(response.body))
    assert answer["pid"] == os.getpid()
    status = Path(f"/proc/{os.getpid()}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    assert abs(answer["rss_kb"] - rss_kb) < 50 * 1024  # the same figure, read moments apart
    assert answer["rss_kb"] > 0
    assert "bench.memory" in answer["modules"]


def test_packages_are_third_party_top_level_names() -> None:
    modules = ["asyncio.events", "json", "_thread", "sqlalchemy.engine", "jinja2", "gatepass.x"]
    assert memory._top_level(modules) == ["gatepass", "jinja2", "sqlalchemy"]
