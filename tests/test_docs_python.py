"""The ```python examples in docs/sdk.md run, in order and in one interpreter (so names carry
over), against a real server, and match the ```text or ```json block that follows each one
(same conventions as tests/docs_runner.py for bash).

The environment provides GATEPASS (the server's URL), ADMIN_PASSWORD, IDP (the test OpenID
provider, trusted as `test-idp`, whose `auth0|erin` is linked to the user erin), and
EXCHANGER_ID / EXCHANGER_SECRET: an API client allowed the token-exchange and refresh_token
grants. The working directory is a scratch directory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_runner import _compare_json
from tests.idp import TestIdentityProvider
from tests.system.server import Server, gatepass, gatepass_env

ROOT = Path(__file__).resolve().parent.parent
SDK_DOC = ROOT / "docs" / "sdk.md"
_FENCE = re.compile(r"^```(\w*)\s*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_MARK = "@@gatepass-python-block@@"

pytestmark = pytest.mark.slow


def python_examples(markdown: str) -> list[tuple[str, str | None, str | None]]:
    fences = [(m.group(1), m.group(2)) for m in _FENCE.finditer(markdown)]
    found = []
    for index, (lang, body) in enumerate(fences):
        if lang != "python":
            continue
        following = fences[index + 1] if index + 1 < len(fences) else None
        if following and following[0] in {"json", "text"}:
            found.append((body, following[0], following[1]))
        else:
            found.append((body, None, None))
    return found


def test_sdk_doc_has_python_examples() -> None:
    assert len(python_examples(SDK_DOC.read_text())) >= 5


def test_sdk_doc_python_examples_run(tmp_path: Path) -> None:
    env = gatepass_env(tmp_path / "var")
    init = gatepass("init", "--admin", "admin", "--json", env=env)
    assert init.returncode == 0, init.stderr
    provider = TestIdentityProvider("https://api.example.com")
    try:
        setup = [
            ("issuer", "add", provider.issuer, "--name", "test-idp", "--audience",
             provider.audience),
            ("user", "add", "erin", "--no-password"),
            ("user", "link", "erin", "--issuer", "test-idp", "--subject", "auth0|erin"),
        ]  # fmt: skip
        for args in setup:
            done = gatepass(*args, env=env)
            assert done.returncode == 0, done.stderr
        exchanger = gatepass(
            "client", "add", "exchanger", "--grant", "token-exchange", "--grant",
            "refresh_token", "--json", env=env,
        )  # fmt: skip
        assert exchanger.returncode == 0, exchanger.stderr
        client = json.loads(exchanger.stdout)
        with Server(env) as server:
            env.update(
                GATEPASS=server.url,
                ADMIN_PASSWORD=json.loads(init.stdout)["password"],
                IDP=provider.issuer.rstrip("/"),
                EXCHANGER_ID=client["client_id"],
                EXCHANGER_SECRET=client["client_secret"],
            )
            problems = run_python_examples(SDK_DOC.read_text(), env, tmp_path)
    finally:
        provider.stop()
    assert problems == []


def run_python_examples(markdown: str, env: dict[str, str], cwd: Path) -> list[str]:
    items = python_examples(markdown)
    script = "".join(f"{source}\nprint({_MARK!r}, flush=True)\n" for source, _, _ in items)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    outputs = result.stdout.split(_MARK + "\n")
    problems = []
    if result.returncode != 0:
        problems.append(f"python exited {result.returncode}: {result.stderr[-3000:]}")
    for index, (source, kind, expected) in enumerate(items):
        if index >= len(outputs) - 1:
            problems.append(f"example {index + 1} did not run:\n{source}")
            break
        output = outputs[index]
        if kind == "text" and output.strip() != (expected or "").strip():
            problems.append(f"example {index + 1}: expected {expected!r}, got {output!r}")
        if kind == "json":
            problem = _compare_json(output, expected or "")
            if problem:
                problems.append(f"example {index + 1}:\n{source}\n{problem}")
    return problems
