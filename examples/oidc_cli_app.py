"""A command-line app that signs its user in with gatepass through the browser (docs/oidc.md).

The OAuth 2.0 for Native Apps pattern (RFC 8252): a public client (no secret), PKCE S256, and
a redirect to a loopback listener on a port the app picks when it starts (§7.3: gatepass
matches a registered `http://127.0.0.1/callback` with any port). Register it once:

    gatepass client add "Photo CLI" --grant authorization_code --grant refresh_token \\
        --redirect-uri http://127.0.0.1/callback --public --first-party --json

then sign in (the browser opens; `--no-browser` prints the URL only):

    python examples/oidc_cli_app.py --issuer http://127.0.0.1:8080 --client-id ...

It prints one JSON object: the ID token's checked claims and the userinfo response. authlib's
OAuth2Client (httpx) builds the authorization URL and redeems the code; joserfc checks the ID
token against the issuer's JWKS (signature, `iss`, `aud`, `exp`, `nonce`). Nothing is stored:
a real app would keep the refresh token in the system keychain.
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import sys
import threading
import time
import warnings
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import authlib.deprecate  # noqa: F401

# authlib 1.9 prefers the `httpx2` package and warns when it falls back to `httpx`, which
# works; authlib.deprecate turns its warnings "always" on when imported, so this comes after.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")

import httpx  # noqa: E402
from authlib.integrations.httpx_client import OAuth2Client  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import KeySet  # noqa: E402

WAIT_SECONDS = 300


def loopback_listener() -> tuple[HTTPServer, queue.Queue[dict[str, str]]]:
    """An HTTP server on 127.0.0.1 and a free port, answering one callback."""
    received: queue.Queue[dict[str, str]] = queue.Queue()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            received.put({key: values[0] for key, values in parse_qs(parts.query).items()})
            body = b"Signed in. You can close this tab and return to the terminal.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the terminal is for the result

    server = HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def check_id_token(id_token: str, metadata: dict[str, Any], client_id: str, nonce: str) -> Any:
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    return token.claims


def sign_in(issuer: str, client_id: str, scope: str, open_browser: bool) -> dict[str, Any]:
    metadata = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    server, received = loopback_listener()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, state, nonce = (secrets.token_urlsafe(48) for _ in range(3))
    with OAuth2Client(
        client_id,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
        print(f"Sign in at: {url}", file=sys.stderr, flush=True)
        if open_browser:
            webbrowser.open(url)
        try:
            answer = received.get(timeout=WAIT_SECONDS)
        finally:
            server.shutdown()
        if answer.get("state") != state or answer.get("iss") != metadata["issuer"]:
            raise SystemExit("sign-in failed: the answer is not for this request")
        if "error" in answer:
            raise SystemExit(f"sign-in failed: {answer['error']}")
        token = client.fetch_token(
            metadata["token_endpoint"], code=answer["code"], code_verifier=verifier
        )
        claims = check_id_token(token["id_token"], metadata, client_id, nonce)
        userinfo = client.get(metadata["userinfo_endpoint"]).json()
    return {
        "claims": claims,
        "userinfo": userinfo,
        "scope": token.get("scope"),
        "has_refresh_token": "refresh_token" in token,
        "expires_in": int(token.get("expires_at", time.time()) - time.time()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Sign in with gatepass from the terminal.")
    parser.add_argument("--issuer", required=True, help="gatepass's issuer URL")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--scope", default="openid profile email offline_access")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    args = parser.parse_args()
    result = sign_in(args.issuer.rstrip("/"), args.client_id, args.scope, not args.no_browser)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
