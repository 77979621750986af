"""/openapi.json against a committed snapshot: moving code between modules (issue 16) must not
change the served description by one byte.

A deliberate change to the API regenerates the snapshot:
`UPDATE_OPENAPI_SNAPSHOT=1 .venv/bin/pytest -n 0 tests/api/test_openapi_snapshot.py`,
and the diff of `openapi.snapshot.json` is then reviewed with the change. The version is
normalised (it changes with every release, not with the API).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def _normalised(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "info": {**document["info"], "version": "VERSION"}}


async def test_openapi_json_is_the_snapshot(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    # Key order kept: the document is compared as served, member order included.
    served = json.dumps(_normalised(response.json()), indent=1) + "\n"
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(served)
    assert served == SNAPSHOT.read_text()
