"""`gatepass purge` prints what it deleted."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

from typer.testing import CliRunner

from gatepass.app.container import open_container
from gatepass.cli.main import app
from gatepass.config import load_settings
from tests.contract.test_storage import session


def test_purge_prints_counts(home, monkeypatch):
    monkeypatch.setenv("GATEPASS_PURGE_BATCH", "2")
    monkeypatch.setenv("GATEPASS_PURGE_MAX_ROWS", "4")
    assert CliRunner().invoke(app, ["init"]).exit_code == 0

    async def seed() -> None:
        runtime = await open_container(load_settings())
        try:
            now = time.time()
            for index in range(5):
                await runtime.storage.create_session(replace(session(), expires_at=now - index))
            await runtime.storage.create_session(replace(session(), expires_at=now + 60))
            await runtime.denylist.revoke("jti:gone", now - 1)
        finally:
            await runtime.close()

    asyncio.run(seed())
    first = CliRunner().invoke(app, ["purge"])
    assert first.exit_code == 0
    assert first.stdout == (
        "purged 4 sessions, 1 denylist entries, 0 known addresses, 0 audit events\n"
        "purge_max_rows reached: more expired rows are left; run `gatepass purge` again\n"
    )
    second = CliRunner().invoke(app, ["purge", "--json"])
    assert json.loads(second.stdout) == {
        "sessions": 1,
        "denylist": 0,
        "known_addresses": 0,
        "audit": 0,
        "complete": True,
    }
