"""A server-side web app that signs people in with gatepass: FastAPI + authlib (docs/oidc.md).

Register it once (a confidential, third-party client; drop --first-party to get the consent
page, add it for your own apps):

    gatepass client add "Photo Printer" --grant authorization_code \\
        --redirect-uri http://127.0.0.1:8000/callback \\
        --post-logout-redirect-uri http://127.0.0.1:8000/ --json

then run it with the client id and secret that printed:

    GATEPASS_ISSUER=http://127.0.0.1:8080 APP_CLIENT_ID=... APP_CLIENT_SECRET=... \\
        python examples/oidc_webapp.py

Settings (environment): GATEPASS_ISSUER (gatepass's `issuer`), APP_CLIENT_ID,
APP_CLIENT_SECRET, APP_URL (where this app is reached, default http://127.0.0.1:8000),
APP_SESSION_SECRET (signs this app's own cookie; default: a new one per start).

Routes: `/` shows who is signed in, `/login` starts the authorization code flow (PKCE S256,
state and nonce by authlib), `/callback` receives the code, `/logout` ends the session here and
at gatepass (RP-initiated logout). authlib checks the ID token's signature (the issuer's JWKS),
`iss`, `aud`, `exp` and `nonce`; this app also checks the RFC 9207 `iss` parameter of the
authorization response, which defends against mix-up attacks when an app trusts several
providers.
"""

from __future__ import annotations

import html
import os
import secrets
import warnings
from urllib.parse import urlencode, urlsplit

import authlib.deprecate  # noqa: F401

# authlib 1.9 prefers the `httpx2` package and warns when it falls back to `httpx`, which
# works; authlib.deprecate turns its warnings "always" on when imported, so this comes after.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")

from authlib.integrations.starlette_client import OAuth, OAuthError  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import HTMLResponse, RedirectResponse, Response  # noqa: E402
from starlette.middleware.sessions import SessionMiddleware  # noqa: E402

ISSUER = os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8080").rstrip("/")
APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:8000").rstrip("/")

oauth = OAuth()
oauth.register(
    "gatepass",
    server_metadata_url=f"{ISSUER}/.well-known/openid-configuration",
    client_id=os.environ.get("APP_CLIENT_ID"),
    client_secret=os.environ.get("APP_CLIENT_SECRET"),
    client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
)

app = FastAPI(title="Photo Printer (gatepass example)")
app.add_middleware(
    SessionMiddleware,
    secret_key=os.environ.get("APP_SESSION_SECRET") or secrets.token_urlsafe(32),
    same_site="lax",  # the callback is a top-level GET from gatepass: Lax sends the cookie
    https_only=APP_URL.startswith("https://"),
)


def page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Photo Printer</title><main>{body}</main>", status_code=status
    )


@app.get("/")
async def home(request: Request) -> Response:
    user = request.session.get("user")
    if not user:
        return page('<h1>Photo Printer</h1><p>Signed out.</p><a href="/login">Sign in</a>')
    name = html.escape(user.get("name") or user.get("preferred_username") or user["sub"])
    email = html.escape(user.get("email") or "")
    return page(
        f"<h1>Photo Printer</h1><p id=who>Signed in as {name}</p><p id=email>{email}</p>"
        '<a href="/logout">Sign out</a>'
    )


@app.get("/login")
async def login(request: Request) -> Response:
    response: Response = await oauth.gatepass.authorize_redirect(request, f"{APP_URL}/callback")
    return response


@app.get("/callback")
async def callback(request: Request) -> Response:
    metadata = await oauth.gatepass.load_server_metadata()
    if request.query_params.get("iss") != metadata["issuer"]:  # RFC 9207
        return page("<p>Sign-in failed: the response is not from gatepass.</p>", 400)
    try:
        token = await oauth.gatepass.authorize_access_token(request)
    except OAuthError as error:  # access_denied, invalid state, a bad ID token …
        return page(f"<p>Sign-in failed: {html.escape(error.error or 'error')}.</p>", 400)
    # The ID token's claims, checked by authlib; the profile comes from the userinfo endpoint.
    profile = await oauth.gatepass.userinfo(token=token)
    if profile["sub"] != token["userinfo"]["sub"]:
        return page("<p>Sign-in failed: userinfo is about someone else.</p>", 400)
    request.session["user"] = dict(profile)
    request.session["id_token"] = token["id_token"]
    return RedirectResponse("/", status_code=303)


@app.get("/logout")
async def logout(request: Request) -> Response:
    id_token = request.session.pop("id_token", None)
    request.session.clear()
    metadata = await oauth.gatepass.load_server_metadata()
    if not id_token:
        return RedirectResponse("/", status_code=303)
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": f"{APP_URL}/"})
    return RedirectResponse(f"{metadata['end_session_endpoint']}?{query}", status_code=303)


if __name__ == "__main__":
    import uvicorn

    where = urlsplit(APP_URL)
    uvicorn.run(app, host=where.hostname or "127.0.0.1", port=where.port or 8000)
