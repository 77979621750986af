"""`require_scopes` in FastAPI and `protect` in Starlette (the example protected API).

No `from __future__ import annotations` here: FastAPI reads the endpoint's annotations at
runtime, and a dependency built inside a function is not a module global it could resolve.
"""

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from gatepass.verify import AccessToken, TokenVerifier
from gatepass.verify.starlette import require_scopes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "protected_api.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protected_api", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fastapi_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    reader = Annotated[AccessToken, Depends(require_scopes("docs:read", verifier=verifier))]

    @app.get("/docs")
    async def docs(token: reader):
        return {"subject": token.subject, "scopes": sorted(token.scopes)}

    return app


@pytest.fixture
async def alice(make_user):
    return await make_user("alice", scopes=["docs:read", "notes:read"])


def api_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_fastapi_dependency(verifier, issue, alice):
    tokens = await issue()
    async with api_client(fastapi_app(verifier)) as api:
        ok = await api.get("/docs", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert ok.status_code == 200
        assert ok.json() == {"subject": alice.id, "scopes": ["docs:read", "notes:read"]}
        missing = await api.get("/docs")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
        bad = await api.get("/docs", headers={"Authorization": "Bearer junk"})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith(
            'Bearer realm="api", error="invalid_token"'
        )


async def test_fastapi_dependency_refuses_a_missing_scope(verifier, issue, make_user):
    await make_user("bob", scopes=["notes:read"])
    tokens = await issue("bob")
    async with api_client(fastapi_app(verifier)) as api:
        response = await api.get(
            "/docs", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    assert response.status_code == 403
    assert response.json() == {"detail": "missing scope(s): docs:read"}
    assert response.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", '
        'error_description="missing scope(s): docs:read", scope="docs:read"'
    )


async def test_the_example_api_with_starlette(verifier, issue, alice):
    app = load_example().create_app(verifier)
    tokens = await issue()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with app.router.lifespan_context(app), api_client(app) as api:
        notes = await api.get("/notes", headers=headers)
        assert notes.status_code == 200
        assert notes.json()["subject"] == alice.id
        assert (await api.post("/notes", headers=headers)).status_code == 403
        assert (await api.get("/notes")).status_code == 401
        cloudio_style = await api.get(
            "/notes", headers={"Authentication": f"Bearer {tokens['access_token']}"}
        )
        assert cloudio_style.status_code == 200
        assert (await api.get("/healthz")).status_code == 200
