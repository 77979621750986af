"""docs/oidc.md shows the discovery document in full: this test compares it with the live one
(the real app over the ASGI transport, issuer https://gatepass.example.com), so the page cannot
drift from what the server says. `WRITE_DOCS=1` writes the live document into the page
instead (then review the diff)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx

from gatepass.app.container import Container
from gatepass.config import Settings
from gatepass.http.app import create_app

PAGE = Path(__file__).resolve().parent.parent / "docs" / "oidc.md"
ISSUER = "https://gatepass.example.com"
BLOCK = re.compile(
    r"(<!-- discovery:begin -->\n```json\n)(.*?)(```\n<!-- discovery:end -->)", re.DOTALL
)


async def test_the_documented_discovery_document_is_the_live_one(
    settings: Settings, runtime: Container
) -> None:
    app = create_app(settings.model_copy(update={"issuer": ISSUER}), runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ISSUER) as http:
        answer = await http.get("/.well-known/openid-configuration")
    assert answer.status_code == 200
    live = answer.json()
    assert live["issuer"] == ISSUER
    text = PAGE.read_text()
    found = BLOCK.search(text)
    assert found is not None, "docs/oidc.md lost its discovery:begin/end markers"
    if os.environ.get("WRITE_DOCS") == "1":
        shown = json.dumps(live, indent=2) + "\n"
        PAGE.write_text(text[: found.start(2)] + shown + text[found.end(2) :])
        return
    assert json.loads(found.group(2)) == live, (
        "docs/oidc.md shows another discovery document: run "
        "WRITE_DOCS=1 pytest tests/test_docs_oidc.py and review the diff"
    )
