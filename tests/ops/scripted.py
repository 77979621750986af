"""A scripted session against a real `gatepass serve` process: every kind of credential and
token goes over the wire (and some wrong ones), so that the metrics it leaves and the log it
writes can be checked afterwards."""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.system.server import Server, gatepass, gatepass_env

ALICE_PASSWORD = "alice-Pa55word-9f3b2c"
CAROL_PASSWORD = "carol-Pa55word-71ad0e"
WRONG_PASSWORDS = ("wrong-Guess-a81c33", "wrong-Guess-b02d44", "wrong-Guess-c93e55")
NEW_USER_PASSWORD = "dave-Pa55word-4c1e88"
CHANGED_PASSWORD = "dave-Changed-5d2f99"
REQUEST_ID = "scripted-run.0001"


@dataclass
class ScriptedRun:
    home: Path
    log: str
    metrics: str
    secrets: dict[str, str] = field(default_factory=dict)
    responses: dict[str, httpx.Response] = field(default_factory=dict)


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None when it is absent."""
    for family in text_string_to_metric_families(metrics):
        for item in family.samples:
            if item.name == name and item.labels == labels:
                return float(item.value)
    return None


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> dict[str, object]:
    result = gatepass(*args, "--json", env=env, input=stdin)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def run_script(tmp: Path) -> ScriptedRun:
    home = tmp / "var"
    env = gatepass_env(home, GATEPASS_LOGIN_FAILURES_PER_ACCOUNT="2", GATEPASS_PURGE_INTERVAL="0")
    secrets: dict[str, str] = {}
    init = _cli(env, "init", "--admin", "admin")
    secrets["admin password"] = str(init["password"])
    for name, password in (("alice", ALICE_PASSWORD), ("carol", CAROL_PASSWORD)):
        result = gatepass("user", "add", name, "--password-stdin", env=env, input=password + "\n")
        assert result.returncode == 0, result.stderr
    secrets["alice password"] = ALICE_PASSWORD
    secrets["carol password"] = CAROL_PASSWORD
    client = _cli(env, "client", "add", "svc", "--client-id", "svc-scripted")
    secrets["client secret"] = str(client["client_secret"])
    apikey = _cli(env, "apikey", "add", "--user", "alice", "--name", "ci")
    secrets["api key"] = str(apikey["api_key"])
    for index, wrong in enumerate(WRONG_PASSWORDS):
        secrets[f"wrong password {index}"] = wrong
    secrets["new user password"] = NEW_USER_PASSWORD
    secrets["changed password"] = CHANGED_PASSWORD
    secrets["master key"] = (home / "master.key").read_text().strip()

    responses: dict[str, httpx.Response] = {}
    with Server(env) as server, httpx.Client(base_url=server.url, timeout=10) as http:

        def post(key: str, path: str, body: dict[str, str], **kw: object) -> httpx.Response:
            responses[key] = response = http.post(path, json=body, **kw)  # type: ignore[arg-type]
            return response

        login = post(
            "alice login",
            "/auth/login",
            {"username": "alice", "password": ALICE_PASSWORD},
            headers={"X-Request-ID": REQUEST_ID},
        ).json()
        secrets["alice access"] = login["access_token"]
        secrets["alice refresh"] = login["refresh_token"]
        refreshed = post("refresh", "/auth/refresh", {"refresh_token": login["refresh_token"]})
        secrets["alice refresh 2"] = refreshed.json()["refresh_token"]
        secrets["alice access 2"] = refreshed.json()["access_token"]
        post("reuse", "/auth/refresh", {"refresh_token": login["refresh_token"]})
        by_client = post(
            "client login",
            "/auth/login",
            {"client_id": "svc-scripted", "client_secret": secrets["client secret"]},
        ).json()
        secrets["client access"] = by_client["access_token"]
        by_key = post(
            "api key login", "/auth/login", {"username": "alice", "api_key": secrets["api key"]}
        ).json()
        secrets["api key access"] = by_key["access_token"]
        secrets["api key refresh"] = by_key["refresh_token"]
        bearer = {"Authorization": f"Bearer {by_key['access_token']}"}
        responses["me"] = http.get("/auth/me", headers=bearer)
        responses["logout"] = http.post("/auth/logout", headers=bearer)
        basic = base64.b64encode(f"svc-scripted:{secrets['client secret']}".encode()).decode()
        secrets["basic header"] = basic
        responses["oauth"] = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        secrets["oauth access"] = responses["oauth"].json()["access_token"]
        for index, wrong in enumerate(WRONG_PASSWORDS):
            post(f"carol wrong {index}", "/auth/login", {"username": "carol", "password": wrong})
        admin = post(
            "admin login",
            "/auth/login",
            {"username": "admin", "password": secrets["admin password"], "scope": "gatepass:admin"},
        ).json()
        secrets["admin access"] = admin["access_token"]
        secrets["admin refresh"] = admin["refresh_token"]
        as_admin = {"Authorization": f"Bearer {admin['access_token']}"}
        responses["admin missing user"] = http.get("/admin/users/nobody", headers=as_admin)
        responses["admin create"] = http.post(
            "/admin/users",
            json={"username": "dave", "password": NEW_USER_PASSWORD},
            headers=as_admin,
        )
        responses["admin passwd"] = http.put(
            "/admin/users/dave/password", json={"password": CHANGED_PASSWORD}, headers=as_admin
        )
        responses["bad request id"] = http.get("/healthz", headers={"X-Request-ID": "a b" * 3})
        responses["unmatched"] = http.get("/no/such/path")
        metrics = http.get("/metrics").text
    log = server.log.read_text()
    with sqlite3.connect(home / "gatepass.db") as db:
        for index, (digest,) in enumerate(db.execute("SELECT password_hash FROM users")):
            if digest:
                secrets[f"password hash {index}"] = digest
                secrets[f"password hash tail {index}"] = digest.rsplit("$", 1)[-1]
        for index, (digest,) in enumerate(db.execute("SELECT secret_digest FROM clients")):
            secrets[f"client secret digest {index}"] = digest
        for index, (digest,) in enumerate(db.execute("SELECT digest FROM api_keys")):
            secrets[f"api key digest {index}"] = digest
    return ScriptedRun(home, log, metrics, secrets, responses)
