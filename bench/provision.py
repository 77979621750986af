"""The principals and tokens the scenarios use, created through gatepass's own CLI and API
(as an operator and its clients would), and the PostgreSQL schema / Redis prefix of the
PostgreSQL stage, removed afterwards."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

SCOPE = "api:read"
USERNAME = "benchuser"
# A fixed password is fine: the database lives in a temporary directory (or schema) that is
# deleted at the end of the run.
PASSWORD = "bench user password, long enough"


@dataclass(frozen=True)
class Principals:
    client_id: str
    client_secret: str
    username: str = USERNAME
    password: str = PASSWORD

    @property
    def basic(self) -> str:
        """The client's HTTP Basic credentials (base64 of id:secret)."""
        return base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()

    @property
    def login_body(self) -> str:
        return json.dumps({"username": self.username, "password": self.password})


def _cli(gatepass: Path, env: Mapping[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603  (fixed argv, no shell)
        [str(gatepass), *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gatepass {' '.join(args)} failed: {done.stderr.strip()[:800]}")
    return done.stdout


def provision(gatepass: Path, env: Mapping[str, str]) -> Principals:
    """Initialise the database and create one user (password, argon2id) and one API client
    allowed client_credentials, both holding the scope `api:read`."""
    _cli(gatepass, env, "init", "--admin", "admin", "--json")
    _cli(
        gatepass,
        env,
        "user",
        "add",
        USERNAME,
        "--scope",
        SCOPE,
        "--password-stdin",
        "--json",
        stdin=PASSWORD + "\n",
    )
    client = json.loads(
        _cli(
            gatepass,
            env,
            "client",
            "add",
            "bench-client",
            "--scope",
            SCOPE,
            "--grant",
            "client_credentials",
            "--json",
        )
    )
    return Principals(client_id=client["client_id"], client_secret=client["client_secret"])


async def _password_logins(url: str, principals: Principals, count: int) -> list[str]:
    """`count` fresh sessions' refresh tokens (each one login, argon2id and all)."""
    limits = httpx.Limits(max_connections=8)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(8)

        async def one() -> str:
            async with semaphore:
                for _ in range(20):
                    response = await client.post(
                        "/auth/login",
                        json={"username": principals.username, "password": principals.password},
                    )
                    if response.status_code == 503:  # hashing pool full: wait as told
                        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    response.raise_for_status()
                    token: str = response.json()["refresh_token"]
                    return token
                raise RuntimeError("password login kept answering 503")

        return list(await asyncio.gather(*(one() for _ in range(count))))


def refresh_tokens(url: str, principals: Principals, count: int) -> list[str]:
    return asyncio.run(_password_logins(url, principals, count))


def access_token(url: str, principals: Principals) -> str:
    """A user access token for the verify and introspection scenarios."""
    response = httpx.post(
        f"{url}/auth/login",
        json={"username": principals.username, "password": principals.password},
        timeout=60,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def peer_token(url: str, client_id: str, secret: str, resource: str | None = None) -> str:
    """An oidc-provider client_credentials access token (opaque with resource=urn:bench:opaque,
    an ES256 JWT for the default resource)."""
    data = {"grant_type": "client_credentials", "scope": SCOPE}
    if resource:
        data["resource"] = resource
    response = httpx.post(f"{url}/token", data=data, auth=(client_id, secret), timeout=30)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def check(
    url: str,
    method: str,
    path: str,
    *,
    expect_status: int = 200,
    expect_text: str | None = None,
    **kwargs: object,
) -> None:
    """One request before loading a scenario: if the answer is wrong, loading it would only
    measure how fast gatepass says no."""
    response = httpx.request(method, f"{url}{path}", timeout=30, **kwargs)  # type: ignore[arg-type]
    if response.status_code != expect_status or (
        expect_text is not None and expect_text not in response.text
    ):
        raise RuntimeError(
            f"{method} {url}{path} answered {response.status_code}: {response.text[:300]}"
        )


async def _pg(dsn: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_schema(dsn: str, schema: str) -> None:
    asyncio.run(_pg(dsn, f'CREATE SCHEMA "{schema}"'))


def drop_schema(dsn: str, schema: str) -> None:
    asyncio.run(_pg(dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def drop_redis_prefix(url: str, prefix: str) -> int:
    """Delete the keys under `prefix:` (this run's only)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        names = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(names), 500):
            client.delete(*names[start : start + 500])
        return len(names)
    finally:
        client.close()
