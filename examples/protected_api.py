"""An API protected by gatepass, using `gatepass.verify` (see docs/verify.md).

    EXAMPLE_ISSUER=http://127.0.0.1:8080 \
        uvicorn --factory --app-dir examples protected_api:app_from_env --port 9000

Settings (environment): EXAMPLE_ISSUER (gatepass's `issuer`, required), EXAMPLE_AUDIENCE
(the API's own audience: the URI it registered with `gatepass resource add
https://notes.example.com --scope notes:read --scope notes:write`, whose tokens are asked for
with `resource=`; default `gatepass`, gatepass's `audience`, for tokens asked for no API),
EXAMPLE_JWKS_URI (default: the issuer's `/.well-known/jwks.json`).

Routes: `GET /notes` needs `notes:read`, `POST /notes` needs `notes:write`, `GET /healthz` is
open. Behind nginx or Traefik with gatepass forward-auth the proxy also passes
`X-Gatepass-Subject`; the API checks the token itself anyway (defence in depth, and the
only check when it is reached directly).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gatepass.verify import AccessToken, TokenVerifier
from gatepass.verify.starlette import protect

NOTES = [{"id": 1, "text": "gatepass checked this request"}]


def _token(request: Request) -> AccessToken:
    token: AccessToken = request.state.gatepass_token
    return token


@protect("notes:read")
async def list_notes(request: Request) -> Response:
    token = _token(request)
    return JSONResponse(
        {
            "notes": NOTES,
            "subject": token.subject,
            "forwarded_subject": request.headers.get("x-gatepass-subject"),
        }
    )


@protect("notes:write")
async def add_note(request: Request) -> Response:
    note = {"id": len(NOTES) + 1, "text": f"written by {_token(request).subject}"}
    NOTES.append(note)
    return JSONResponse(note, status_code=201)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(verifier: TokenVerifier) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.gatepass_verifier = verifier
        try:
            yield
        finally:
            await verifier.aclose()

    return Starlette(
        routes=[
            Route("/notes", list_notes, methods=["GET"]),
            Route("/notes", add_note, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    issuer = os.environ["EXAMPLE_ISSUER"]
    return create_app(
        TokenVerifier(
            issuer=issuer,
            audience=os.environ.get("EXAMPLE_AUDIENCE", "gatepass"),
            jwks_uri=os.environ.get("EXAMPLE_JWKS_URI"),
        )
    )
