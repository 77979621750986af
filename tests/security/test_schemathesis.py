"""Schemathesis against gatepass's own OpenAPI description, on a real server: every documented
operation (native, OAuth, dialects, admin) is fuzzed from its schema; zero 5xx and zero
responses that break the description (status codes, content types, bodies, headers).

`positive_data_acceptance` is left out: it expects every schema-valid request to succeed, but a
well-formed login with a scope the user does not hold, or a client id that does not exist, is
rightly refused with a documented 400/401 — the schema cannot express who holds what."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from tests.system.server import Server, gatepass, gatepass_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home: Path = tmp_path_factory.mktemp("schemathesis") / "var"
    env = gatepass_env(
        home,
        GATEPASS_DIALECTS="all",
        GATEPASS_LOGIN_FAILURES_PER_ADDRESS="100000",
        GATEPASS_LOGIN_FAILURES_PER_ACCOUNT="100000",
    )
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    password = json.loads(init.stdout)["password"]
    with Server(env) as running:
        token = httpx.post(
            f"{running.url}/auth/login", json={"username": "admin", "password": password}
        ).json()
        yield running, token["access_token"]


def test_the_api_keeps_its_description(server: tuple[Server, str]) -> None:
    running, token = server
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results)  # the description itself is valid
    assert len(operations) >= 59  # every surface is described, admin included
    headers = {"Authorization": f"Bearer {token}"}
    calls = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
            nonlocal calls
            calls += 1
            case.call_and_validate(
                base_url=running.url, headers=headers, excluded_checks=[positive_data_acceptance]
            )

        check()
    assert calls >= 5 * len(operations)
