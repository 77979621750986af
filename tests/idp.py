"""A test OpenID provider on 127.0.0.1: its own keys, a discovery document and a JWKS served
over real HTTP, key rotation on demand, and outages (down, or hanging) on demand."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class TestIdentityProvider:
    __test__ = False  # not a pytest test class

    def __init__(self, audience: str = "https://api.example.com") -> None:
        self.audience = audience
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.current_kid = ""
        self.requests: list[str] = []
        self.hang_seconds = 0.0
        self.rotate()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.issuer = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ keys and tokens

    def rotate(self, *, keep_old: bool = False) -> str:
        """A new signing key; the old ones leave the JWKS unless `keep_old`."""
        kid = uuid.uuid4().hex[:12]
        if not keep_old:
            self.keys.clear()
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.current_kid = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
            published.append(jwk)
        return {"keys": published}

    def token(self, subject: str = "auth0|alice", *, lifetime: float = 300, **claims: Any) -> str:
        now = int(claims.pop("now", time.time()))
        kid = claims.pop("kid", self.current_kid)
        key = claims.pop("key", self.keys.get(kid) or next(iter(self.keys.values())))
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(lifetime),
            **claims,
        }
        return jwt.encode(
            {k: v for k, v in payload.items() if v is not None},
            key,
            algorithm="RS256",
            headers={"kid": kid},
        )

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return (
            self.keys[self.current_kid]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def jwks_fetches(self) -> int:
        return self.requests.count("/jwks")

    # ------------------------------------------------------------------ outages

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def hanging(self, seconds: float) -> Iterator[None]:
        self.hang_seconds = seconds
        try:
            yield
        finally:
            self.hang_seconds = 0.0

    # ------------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests.append(self.path)
                if provider.hang_seconds:
                    time.sleep(provider.hang_seconds)
                if self.path == "/.well-known/openid-configuration":
                    body = {
                        "issuer": provider.issuer,
                        "jwks_uri": f"http://127.0.0.1:{provider.port}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/jwks":
                    body = provider.jwks()
                elif self.path.startswith("/mint?"):
                    # For the documented examples: a token as the provider would issue it.
                    query: dict[str, Any] = dict(parse_qsl(self.path.split("?", 1)[1]))
                    subject = query.pop("sub", "auth0|alice")
                    self._send(provider.token(subject, **query).encode(), "text/plain")
                    return
                else:
                    self.send_error(404)
                    return
                self._send(json.dumps(body).encode(), "application/json")

            def _send(self, data: bytes, content_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler
