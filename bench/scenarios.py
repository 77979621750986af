"""The scenarios: which request each one sends, to which server, how hard, and the one-off
check of each request's answer before it is loaded."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import provision
from bench.report import PEER

OPAQUE_RESOURCE = "urn:bench:opaque"
# Password logins: enough connections to keep every hashing thread busy (2 workers × 2 threads
# by default) but no more than one worker's running + queued capacity (2 + 4), so that the
# rate measured is the service rate, not the 503 rate (the flood measures those).
PASSWORD_CONNECTIONS = 6


@dataclass
class Spec:
    """A scenario: which server, which request, how hard. `env` is called before every wrk
    invocation (refresh scenarios need fresh tokens each time)."""

    key: str
    label: str
    server: str
    path: str
    script: str = "static"
    connections: int = 32
    env: Callable[[], dict[str, str]] = field(default=dict)
    # Pause after each run: password logins still hashing when wrk stops would otherwise
    # fill the next scenario's hashing pool (and get it 503s).
    settle_s: float = 0.2
    # Text the one-off check requires in the answer, for scenarios whose load does not read
    # bodies (BENCH_EXPECT, when set, is required by both).
    check_text: str | None = None

    def check(self, url: str) -> None:
        """Send this scenario's request once (static scripts only) and require a right answer."""
        if self.script != "static":
            return
        env = self.env()
        headers = {}
        if "BENCH_CONTENT_TYPE" in env:
            headers["Content-Type"] = env["BENCH_CONTENT_TYPE"]
        if "BENCH_AUTH" in env:
            headers["Authorization"] = env["BENCH_AUTH"]
        provision.check(
            url,
            env.get("BENCH_METHOD", "GET"),
            self.path,
            content=env.get("BENCH_BODY"),
            headers=headers,
            expect_text=env.get("BENCH_EXPECT", self.check_text),
        )


def gatepass_specs(
    url: str,
    principals: provision.Principals,
    label: str,
    keys: set[str],
    tokens_file: Callable[[int], Path],
) -> list[Spec]:
    """gatepass's scenarios named in `keys`, each request checked once against `url` first.
    `tokens_file(n)` writes n fresh refresh tokens to a file (a new set for every wrk run)."""
    access = provision.access_token(url, principals)
    basic = f"Basic {principals.basic}"
    form = "application/x-www-form-urlencoded"
    cc_body = json.dumps(
        {"client_id": principals.client_id, "client_secret": principals.client_secret}
    )

    def fixed(**values: str) -> Callable[[], dict[str, str]]:
        return lambda: dict(values)

    def refresh_env() -> dict[str, str]:
        return {"BENCH_DATA": str(tokens_file(2 * 32))}

    specs = [
        Spec("hello", "bare hello (same stack)", label, "/bench/hello"),
        Spec(
            "verify",
            "forward-auth /auth/verify",
            label,
            "/auth/verify",
            env=fixed(BENCH_AUTH=f"Bearer {access}"),
        ),
        Spec("jwks", "JWKS", label, "/.well-known/jwks.json", check_text='"keys"'),
        Spec(
            "cc_native",
            "client_credentials native /auth/login",
            label,
            "/auth/login",
            env=fixed(
                BENCH_METHOD="POST", BENCH_BODY=cc_body, BENCH_CONTENT_TYPE="application/json"
            ),
            check_text='"access_token"',
        ),
        Spec(
            "cc_oauth",
            "client_credentials /oauth/token (JWT)",
            label,
            "/oauth/token",
            env=fixed(
                BENCH_METHOD="POST",
                BENCH_BODY=f"grant_type=client_credentials&scope={provision.SCOPE}",
                BENCH_CONTENT_TYPE=form,
                BENCH_AUTH=basic,
            ),
            check_text='"access_token"',
        ),
        Spec(
            "introspect",
            "introspection",
            label,
            "/oauth/introspect",
            env=fixed(
                BENCH_METHOD="POST",
                BENCH_BODY=f"token={access}",
                BENCH_CONTENT_TYPE=form,
                BENCH_AUTH=basic,
                BENCH_EXPECT='"active":true',
            ),
        ),
        Spec(
            "refresh",
            "refresh with rotation",
            label,
            "/auth/refresh",
            "refresh",
            env=refresh_env,
        ),
        Spec(
            "password",
            "password login native /auth/login",
            label,
            "/auth/login",
            connections=PASSWORD_CONNECTIONS,
            settle_s=1.5,
            env=fixed(
                BENCH_METHOD="POST",
                BENCH_BODY=principals.login_body,
                BENCH_CONTENT_TYPE="application/json",
                BENCH_EXPECT='"access_token"',
            ),
        ),
        Spec(
            "password_dialect",
            "password login datarhei /api/login",
            label,
            "/api/login",
            connections=PASSWORD_CONNECTIONS,
            settle_s=1.5,
            env=fixed(
                BENCH_METHOD="POST",
                BENCH_BODY=principals.login_body,
                BENCH_CONTENT_TYPE="application/json",
                BENCH_EXPECT='"access_token"',
            ),
        ),
    ]
    # Every scenario's request is checked once before it is loaded.
    for spec in specs:
        spec.check(url)
    return [spec for spec in specs if spec.key in keys]


def peer_specs(url: str, client_id: str, secret: str) -> list[Spec]:
    """oidc-provider's two scenarios; checks that it issues ES256 JWTs for the default
    resource and that its opaque tokens introspect as active on every worker."""
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = "application/x-www-form-urlencoded"
    jwt = provision.peer_token(url, client_id, secret)
    if jwt.count(".") != 2:
        raise RuntimeError("oidc-provider did not issue a JWT access token")
    header = json.loads(base64.urlsafe_b64decode(jwt.split(".")[0] + "=="))
    if header.get("alg") != "ES256":
        raise RuntimeError(f"oidc-provider signs access tokens with {header.get('alg')}")
    opaque = provision.peer_token(url, client_id, secret, OPAQUE_RESOURCE)
    for _ in range(4):  # several times: the answer must not depend on the worker
        provision.check(
            url,
            "POST",
            "/token/introspection",
            content=f"token={opaque}",
            headers={"Authorization": basic, "Content-Type": form},
            expect_text='"active":true',
        )
    return [
        Spec(
            "cc",
            "client_credentials /token (JWT)",
            PEER,
            "/token",
            env=lambda: {
                "BENCH_METHOD": "POST",
                "BENCH_BODY": f"grant_type=client_credentials&scope={provision.SCOPE}",
                "BENCH_CONTENT_TYPE": form,
                "BENCH_AUTH": basic,
            },
        ),
        Spec(
            "introspect",
            "introspection (opaque token, Redis adapter)",
            PEER,
            "/token/introspection",
            env=lambda: {
                "BENCH_METHOD": "POST",
                "BENCH_BODY": f"token={opaque}",
                "BENCH_CONTENT_TYPE": form,
                "BENCH_AUTH": basic,
                "BENCH_EXPECT": '"active":true',
            },
        ),
    ]
