"""Every executable example in README.md and docs/*.md runs against a real server and matches
its documented output (see tests/docs_runner.py for the conventions)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from gatepass.config import Settings
from tests.cli_zygote import shim_dir
from tests.docs_runner import examples, run_examples
from tests.idp import TestIdentityProvider
from tests.system.server import Server, gatepass, gatepass_env

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
EXECUTABLE = [path for path in DOCS if examples(path.read_text())]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def initialised_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One home made by `gatepass init --admin admin`, and the admin's password: each page
    gets a copy of it (and a server of its own), as if it had run the same init itself."""
    home = tmp_path_factory.mktemp("docs") / "var"
    init = gatepass("init", "--admin", "admin", "--json", env=gatepass_env(home))
    assert init.returncode == 0, init.stderr
    return home, json.loads(init.stdout)["password"]


@pytest.mark.parametrize(
    "path", EXECUTABLE, ids=[p.relative_to(ROOT).as_posix() for p in EXECUTABLE]
)
def test_documented_examples_run(
    path: Path, tmp_path: Path, initialised_home: tuple[Path, str]
) -> None:
    template, admin_password = initialised_home
    shutil.copytree(template, tmp_path / "var")
    # As the quickstart (scripts/serve) does: every dialect on.
    env = gatepass_env(tmp_path / "var", GATEPASS_DIALECTS="all")
    provider = TestIdentityProvider("https://api.example.com")
    with Server(env) as server:
        env.update(
            IDP=provider.issuer.rstrip("/"),
            GATEPASS=server.url,
            ADMIN_PASSWORD=admin_password,
            # `gatepass login` keeps its tokens here, not in the real user's config directory.
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            # `gatepass` is the zygote's shim (tests/cli_zygote.py: a real process without
            # the imports), then the virtualenv's console scripts.
            PATH=os.pathsep.join([str(shim_dir()), str(Path(sys.executable).parent), env["PATH"]]),
        )
        try:
            problems = run_examples(path.read_text(), env, tmp_path)
        finally:
            provider.stop()
    assert problems == []


def test_the_docs_have_examples() -> None:
    names = {path.name for path in EXECUTABLE}
    assert {"README.md", "native-api.md", "cli.md"} <= names


def test_every_setting_is_documented() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in reference]
    assert missing == []
