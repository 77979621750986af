"""The authorization code flow scenario (issue 19): one unit is a whole flow, a browser that is
already signed in asking for a code (`GET` authorize with its session cookie → 302/303 with
`code` in `Location`) and the app redeeming it (`POST` token with the code, the PKCE
`code_verifier`, the redirect URI and `client_secret_basic` → 200 with `access_token` and
`id_token`).

Provisioning, once per server before any load:

- gatepass: a confidential third-party web app (`client add --grant authorization_code
  --id-token-alg ES256 --scope api:read`); the bench user signs in on the hosted `/login` form
  and allows the app on the consent page, like a person would, so every later authorization
  request finds the sign-in cookie and the remembered consent and answers with a code.
- oidc-provider: the same kind of client (`bench/peers/oidc-provider/server.js`); one trip
  through its interaction endpoint signs the user in and records a grant (its remembered
  consent), and its `_session` cookies do the same as gatepass's.

Both sides are then checked with one full flow (ES256 JWT access token, ES256 ID token) before
the load, which `lua/authcode.lua` drives: see docs/performance.md, "Authorization code flow".
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from bench import provision
from bench.scenarios import Spec

REDIRECT_URI = "https://app.bench.example/callback"
SCOPE = f"openid {provision.SCOPE}"
# PKCE pairs per wrk run: each flow uses the next one (its index is the `state`), so the servers
# see many challenges, not one.
PKCE_PAIRS = 256


@dataclass(frozen=True)
class AppClient:
    """The web app of the flow on one server, and the signed-in browser's cookie there."""

    client_id: str
    client_secret: str
    authorize_path: str
    token_path: str
    cookie: str = ""

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1–4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def pkce_file(path: Path, count: int = PKCE_PAIRS) -> Path:
    """`count` lines of `verifier challenge` for lua/authcode.lua."""
    path.write_text("".join("{} {}\n".format(*pkce_pair()) for _ in range(count)))
    return path


def authorize_params(client_id: str, challenge: str, state: str) -> dict[str, str]:
    """The authorization request, the same on both servers (the Lua script builds the same)."""
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": state,
        "nonce": f"n{state}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def gatepass_app(gatepass: Path, env: Mapping[str, str]) -> AppClient:
    """Register the web app with gatepass's CLI (third-party: users are asked once)."""
    created = json.loads(
        provision._cli(
            gatepass,
            env,
            "client",
            "add",
            "bench-web-app",
            "--grant",
            "authorization_code",
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            provision.SCOPE,
            "--id-token-alg",
            "ES256",
            "--json",
        )
    )
    return AppClient(
        created["client_id"], created["client_secret"], "/oauth/authorize", "/oauth/token"
    )


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    if not found:
        raise RuntimeError(f"no hidden {name} field in gatepass's page: {page[:300]}")
    return found.group(1).replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")


def _code_of(response: httpx.Response) -> str:
    location: str = response.headers.get("location", "")
    if response.status_code not in (302, 303) or not location.startswith(REDIRECT_URI + "?"):
        raise RuntimeError(
            f"the authorization request answered {response.status_code} {location[:200]} "
            f"{response.text[:300]}"
        )
    query: dict[str, list[str]] = parse_qs(urlsplit(location).query)
    if "code" not in query:
        raise RuntimeError(f"no code in {location[:300]}")
    return query["code"][0]


def gatepass_signin(url: str, app: AppClient, principals: provision.Principals) -> AppClient:
    """Sign the bench user in on `/login` and allow the app on the consent page; returns the
    app with the sign-in cookie (`gatepass_signin`) the load sends."""
    _, challenge = pkce_pair()
    params = authorize_params(app.client_id, challenge, "0")
    with httpx.Client(base_url=url, timeout=60) as browser:
        asked = browser.get(app.authorize_path, params=params)
        if asked.status_code != 303 or not asked.headers["location"].startswith("/login?"):
            raise RuntimeError(f"gatepass did not ask to sign in: {asked.status_code}")
        page = browser.get(asked.headers["location"])
        signed = browser.post(
            "/login",
            data={
                "username": principals.username,
                "password": principals.password,
                "csrf": _hidden(page.text, "csrf"),
                "return_to": _hidden(page.text, "return_to"),
            },
        )
        if signed.status_code != 303:
            raise RuntimeError(f"gatepass's /login answered {signed.status_code}")
        consent = browser.get(signed.headers["location"])
        if consent.status_code != 200 or 'name="decision"' not in consent.text:
            raise RuntimeError(f"gatepass showed no consent page: {consent.status_code}")
        allowed = browser.post(
            "/oauth/consent",
            data={
                "csrf": _hidden(consent.text, "csrf"),
                "request": _hidden(consent.text, "request"),
                "decision": "allow",
            },
        )
        _code_of(allowed)
        cookie = browser.cookies.get("gatepass_signin")
    if not cookie:
        raise RuntimeError("gatepass set no gatepass_signin cookie")
    return AppClient(
        app.client_id,
        app.client_secret,
        app.authorize_path,
        app.token_path,
        f"gatepass_signin={cookie}",
    )


def peer_signin(url: str, client_id: str, client_secret: str) -> AppClient:
    """One trip through the peer's interaction endpoint (sign-in and grant); returns the app
    with the peer's session cookies."""
    _, challenge = pkce_pair()
    params = authorize_params(client_id, challenge, "0")
    with httpx.Client(base_url=url, timeout=60) as browser:
        response = browser.get("/auth", params=params)
        for _ in range(4):  # → /interaction/<uid> → /auth/<uid> → the redirect URI
            location = response.headers.get("location", "")
            if response.status_code != 303 or location.startswith(REDIRECT_URI):
                break
            response = browser.get(location)
        _code_of(response)
        jar = {k: v for k, v in browser.cookies.items() if k.startswith("_session")}
    if "_session" not in jar:
        raise RuntimeError("oidc-provider set no _session cookie")
    cookie = "; ".join(f"{k}={v}" for k, v in sorted(jar.items()))
    return AppClient(client_id, client_secret, "/auth", "/token", cookie)


def _jwt_alg(token: str) -> str:
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    return str(header.get("alg"))


def check_flow(url: str, app: AppClient, *, reuse: bool = False) -> None:
    """One whole flow with the load's cookie, request shapes and checks, plus what the load
    cannot check cheaply: both tokens are ES256 JWTs, and (with `reuse`) a code works once.
    A code used twice revokes on both servers: on gatepass the session its first use created,
    on oidc-provider the whole grant (the remembered consent), so check reuse first and sign
    in again after it."""
    verifier, challenge = pkce_pair()
    params = authorize_params(app.client_id, challenge, "7")
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.get(app.authorize_path, params=params, headers={"Cookie": app.cookie})
        code = _code_of(response)
        if parse_qs(urlsplit(response.headers["location"]).query).get("state") != ["7"]:
            raise RuntimeError("the authorization response lost the state")
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            }
        )
        headers = {
            "Authorization": app.basic,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        answer = client.post(app.token_path, content=body, headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"{url}{app.token_path}: {answer.status_code} {answer.text}")
        tokens = answer.json()
        for name in ("access_token", "id_token"):
            if tokens.get(name, "").count(".") != 2 or _jwt_alg(tokens[name]) != "ES256":
                raise RuntimeError(f"{url}: the {name} is not an ES256 JWT: {tokens}")
        again = client.post(app.token_path, content=body, headers=headers) if reuse else None
        if again is not None and again.status_code != 400:
            raise RuntimeError(f"{url}: a code worked twice ({again.status_code})")


def gatepass_ready(
    url: str, gatepass: Path, env: Mapping[str, str], principals: provision.Principals
) -> AppClient:
    """gatepass's web app, signed in and allowed, checked (a code works once; that revokes
    only the tokens of the code's first use, and the sign-in goes on)."""
    app = gatepass_signin(url, gatepass_app(gatepass, env), principals)
    check_flow(url, app, reuse=True)
    check_flow(url, app)
    return app


def peer_ready(url: str, client_id: str, client_secret: str) -> AppClient:
    """The peer's web app, signed in with a grant, checked (a code works once: that revokes
    the grant, so the load gets a fresh sign-in and grant)."""
    check_flow(url, peer_signin(url, client_id, client_secret), reuse=True)
    app = peer_signin(url, client_id, client_secret)
    check_flow(url, app)
    return app


def spec(server: str, app: AppClient, data_file: Callable[[], Path]) -> Spec:
    """The scenario on one server; `data_file()` writes fresh PKCE pairs for each wrk run."""
    label = "authorization code flow, flows/s (authorize + token)"

    def env() -> dict[str, str]:
        return {
            "BENCH_DATA": str(data_file()),
            "BENCH_AUTHORIZE_PATH": app.authorize_path,
            "BENCH_TOKEN_PATH": app.token_path,
            "BENCH_CLIENT_ID": app.client_id,
            "BENCH_REDIRECT_URI": REDIRECT_URI,
            "BENCH_SCOPE": SCOPE,
            "BENCH_COOKIE": app.cookie,
            "BENCH_AUTH": app.basic,
        }

    return Spec("authcode", label, server, app.authorize_path, "authcode", env=env)
