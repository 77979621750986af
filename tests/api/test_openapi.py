"""/openapi.json is built on its first request from schemas generated once per model: the
document served is byte for byte the one pydantic's schemas give when generated afresh."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from gatepass.http import openapi
from gatepass.http.app import create_app


def _fresh_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


async def _served(app: Any) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    return response.content


async def test_the_document_is_the_one_built_without_the_schema_cache(
    settings, runtime, monkeypatch
):
    cached = await _served(create_app(settings, runtime=runtime))
    # Again from another app, now that every model's schema is cached: copies, not shared.
    assert await _served(create_app(settings, runtime=runtime)) == cached

    monkeypatch.setattr(openapi, "model_schema", _fresh_schema)
    reference = await _served(create_app(settings, runtime=runtime))
    assert cached == reference


async def test_the_document_is_the_same_on_every_request(client):
    first = await client.get("/openapi.json")
    second = await client.get("/openapi.json")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.json()["paths"]["/auth/login"]["post"]["responses"]["200"]
