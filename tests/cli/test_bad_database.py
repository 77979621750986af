"""One line, no traceback, for every bad database setting, from every command that opens the
database (issue 15 §3).

The commands come from the Typer command tree: every leaf opens the database except the ones
named below with the reason. Each is run with each bad setting in-process (the same code path
as the real entry point; exit status, stderr and --json checked), and as a real process for
`serve` with every bad setting and for every command with a database that does not exist.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.backends import PG_URL, require_service
from tests.cli.tree import invoke, leaf_commands
from tests.system.server import free_port, gatepass_env

pytestmark = pytest.mark.postgres

LEAVES = leaf_commands()

# Commands that read no server settings, so no database setting can concern them: they talk to
# a remote server through the stored login, or only decode a token's text.
NO_SETTINGS = {"login", "whoami", "logout", "token decode"} | {
    path for path in LEAVES if path.startswith("remote ")
}
# Reads and checks the settings (the URL's scheme included) but connects to nothing.
SETTINGS_ONLY = {"config show"}
OPENS_DATABASE = sorted(set(LEAVES) - NO_SETTINGS - SETTINGS_ONLY)

# Arguments a command needs to get as far as opening the database; every other command gets
# "x" for each required argument and option, read from the tree.
ARGUMENTS = {
    "user add": ["x", "--no-password"],
    "user passwd": ["x", "--generate-password"],
    "role add": ["x", "--scope", "a"],
    "client set-grants": ["x", "--grant", "none"],
    "issuer add": ["https://idp.example.com/", "--audience", "api"],
    # Both refuse, before any database, a call that would change nothing (issues 17 and 18).
    "client set-redirects": ["x", "--redirect-uri", "https://app.example.com/callback"],
    "org set": ["x", "--require-mfa"],
}


def test_the_exclusion_lists_name_real_commands() -> None:
    assert NO_SETTINGS | SETTINGS_ONLY | set(ARGUMENTS) | set(NAMED) <= set(LEAVES)
    assert {"serve", "init", "migrate", "doctor", "export", "import", "purge"} <= set(
        OPENS_DATABASE
    )


def argv_for(path: str, export_file: Path) -> list[str]:
    if path == "import":
        return ["import", str(export_file)]
    if path in ARGUMENTS:
        return [*path.split(), *ARGUMENTS[path]]
    args = [*path.split()]
    for param in LEAVES[path].params:
        if param.required:
            args += ["x"] if param.param_type_name == "argument" else [param.opts[0], "x"]
    return args


@dataclass(frozen=True)
class Bad:
    env: dict[str, str]
    advice: str  # what the one line must say
    connects: bool = False  # found when connecting, not when reading the settings


def _pg(**parts: Any) -> str:
    return make_url(PG_URL).set(**parts).render_as_string(hide_password=False)


PG = make_url(PG_URL)
WHERE = f"{PG.host}:{PG.port or 5432}"
NO_PORT = free_port()


def bad_settings(tmp: Path) -> dict[str, Bad]:
    """Each bad setting, and the advice its one line must give (`tmp` holds notes.txt)."""
    text_file = tmp / "notes.txt"
    hint = "use sqlite+aiosqlite:///PATH/gatepass.db or postgresql+asyncpg://"
    url = "GATEPASS_DATABASE_URL"
    return {
        "postgresql without a driver": Bad(
            {url: "postgresql://gp:s3cret@db.example:5432/gp"},
            "GATEPASS_DATABASE_URL: postgresql:// does not select the driver gatepass uses: "
            "use postgresql+asyncpg://gp:***@db.example:5432/gp",
        ),
        "postgres alias": Bad(
            {url: "postgres://gp@db.example/gp"}, "use postgresql+asyncpg://gp@db.example/gp"
        ),
        "psycopg driver": Bad(
            {url: "postgresql+psycopg://gp@db.example/gp"},
            "postgresql+psycopg:// does not select the driver gatepass uses: "
            "use postgresql+asyncpg://gp@db.example/gp",
        ),
        "mysql": Bad(
            {url: "mysql://gp@db.example/gp"},
            "unsupported database mysql://: gatepass supports sqlite+aiosqlite:// and "
            f"postgresql+asyncpg:// ({hint}",
        ),
        "sqlite without aiosqlite": Bad(
            {url: f"sqlite:///{tmp}/gatepass.db"},
            f"sqlite:// does not select the driver gatepass uses: "
            f"use sqlite+aiosqlite:///{tmp}/gatepass.db",
        ),
        "garbage": Bad({url: "garbage"}, f"GATEPASS_DATABASE_URL: not a database URL: {hint}"),
        "port that is not a number": Bad(
            {url: "postgresql+asyncpg://gp@db.example:fivefour/gp"}, f"not a database URL: {hint}"
        ),
        "schema name that is not an identifier": Bad(
            {url: PG_URL, "GATEPASS_DATABASE_SCHEMA": "bad-name"},
            "database_schema must be a plain identifier (letters, digits, _)",
        ),
        "schema with SQLite": Bad(
            {"GATEPASS_DATABASE_SCHEMA": "gp"}, "database_schema needs a PostgreSQL database_url"
        ),
        "database that does not exist": Bad(
            {url: _pg(database="nope_x")},
            f'database "nope_x" does not exist on {WHERE} — create it or fix the URL',
            connects=True,
        ),
        "schema that does not exist": Bad(
            {url: PG_URL, "GATEPASS_DATABASE_SCHEMA": "nope_schema_x"},
            f'schema "nope_schema_x" does not exist in database "{PG.database}" on {WHERE} — '
            "create it (CREATE SCHEMA nope_schema_x) or fix database_schema",
            connects=True,
        ),
        "role that does not exist": Bad(
            {url: _pg(username="nope_role_x")},
            f'PostgreSQL on {WHERE} refused the login: role "nope_role_x" does not exist — '
            "fix the user or password",
            connects=True,
        ),
        "port where nothing listens": Bad(
            {url: _pg(host="127.0.0.1", port=NO_PORT)},
            f"nothing accepts connections on 127.0.0.1:{NO_PORT} — start PostgreSQL or fix the "
            "host and port in the URL",
            connects=True,
        ),
        "SQLite in a missing directory": Bad(
            {url: f"sqlite+aiosqlite:///{tmp}/missing/gatepass.db"},
            f"cannot open the SQLite database {tmp}/missing/gatepass.db: the directory "
            f"{tmp}/missing does not exist — create it or fix the URL",
            connects=True,
        ),
        "SQLite file that is not a database": Bad(
            {url: f"sqlite+aiosqlite:///{text_file}"},
            f"cannot open the SQLite database {text_file}: file is not a database — fix the "
            "path in the URL",
            connects=True,
        ),
    }


CASES = sorted(bad_settings(Path("tmp")))


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A real export file and its master key (so that `import` gets as far as the database),
    and the environment every bad setting is added to. In-process and cheap: session-scoped
    rather than module-scoped, so that the module is not one xdist group (tests/conftest.py)
    and its tests, a minute of real processes on CI, spread over both workers, each making
    this once."""
    require_service("PostgreSQL", PG.host or "127.0.0.1", PG.port or 5432)
    tmp = tmp_path_factory.mktemp("bad-database")
    (tmp / "notes.txt").write_text("not a database\n")
    env = gatepass_env(tmp / "var")
    assert invoke(["init"], env).exit_code == 0
    assert invoke(["export", str(tmp / "export.json")], env).exit_code == 0
    env["GATEPASS_MASTER_KEY"] = (tmp / "var" / "master.key").read_text().strip()
    env["GATEPASS_HOME"] = str(tmp / "elsewhere")  # no SQLite database to fall back on
    return tmp, env


def _commands(bad: Bad) -> list[str]:
    return OPENS_DATABASE if bad.connects else [*OPENS_DATABASE, *SETTINGS_ONLY]


def _one_line_problem(path: str, bad: Bad, code: int, stdout: str, stderr: str) -> str | None:
    """What is wrong with one run's outcome, or None. Only `doctor` prints on stdout: its
    table, with the failed database check in it."""
    if "Traceback" in stdout + stderr or code != 1:
        return f"{path}: exit {code}: {(stdout + stderr)[-300:]!r}"
    if stderr.count("\n") != 1 or not stderr.startswith("error: ") or bad.advice not in stderr:
        return f"{path}: stderr {stderr!r}"
    if stdout and not path.startswith("doctor"):
        return f"{path}: stdout {stdout!r}"
    return None


@pytest.mark.parametrize("case", CASES)
def test_every_command_that_opens_the_database_says_what_to_fix(world, case: str) -> None:
    tmp, env = world
    bad = bad_settings(tmp)[case]
    problems = []
    for path in _commands(bad):
        argv = argv_for(path, tmp / "export.json")
        result = invoke(argv, {**env, **bad.env})
        if not isinstance(result.exception, SystemExit | None):
            problems.append(f"{path}: raised {result.exception!r}")
            continue
        found = _one_line_problem(path, bad, result.exit_code, result.stdout, result.stderr)
        if found:
            problems.append(found)
    assert problems == []


@pytest.mark.parametrize("case", CASES)
def test_under_json_the_error_is_one_json_document(world, case: str) -> None:
    tmp, env = world
    bad = bad_settings(tmp)[case]
    problems = []
    for path in _commands(bad):
        argv = [*argv_for(path, tmp / "export.json"), "--json"]
        result = invoke(argv, {**env, **bad.env})
        if (result.exit_code, result.stderr) != (1, ""):
            problems.append(f"{path}: exit {result.exit_code}, stderr {result.stderr!r}")
            continue
        document = json.loads(result.stdout)
        if path == "doctor" and bad.connects:  # the report itself, the database check failed
            document = {"error": next(c["detail"] for c in document if c["check"] == "database")}
        if bad.advice not in document["error"]:
            problems.append(f"{path}: {document}")
    assert problems == []


def _gatepass(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gatepass.cli.main", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _real_runs(runs: list[tuple[str, list[str], Bad]], env: dict[str, str]) -> list[str]:
    """Each (label, argv, bad setting) as a real process, three at a time: what went wrong."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda run: _gatepass(run[1], {**env, **run[2].env}), runs))
    problems = []
    for (label, _, bad), result in zip(runs, results, strict=True):
        found = _one_line_problem(label, bad, result.returncode, result.stdout, result.stderr)
        if found:
            problems.append(found)
    return problems


@pytest.mark.slow
def test_serve_as_a_real_process_with_each_bad_setting(world) -> None:
    """The parent process checks before any worker starts: one line, and no worker runs."""
    tmp, env = world
    argv = ["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "2"]
    runs = [(f"serve, {case}", argv, bad) for case, bad in bad_settings(tmp).items()]
    assert _real_runs(runs, env) == []


# The commands the issue names, as real processes (the in-process runs above cover the rest):
# a failure a test runner would hide, such as a thread's traceback after the event loop has
# closed, reaches a real stderr.
NAMED = ["init", "migrate", "doctor", "export", "import", "purge", "user list", "config show"]


@pytest.mark.slow
@pytest.mark.parametrize("case", ["SQLite in a missing directory", "database that does not exist"])
def test_the_named_commands_as_real_processes(world, case: str) -> None:
    tmp, env = world
    bad = bad_settings(tmp)[case]
    runs = [(path, argv_for(path, tmp / "export.json"), bad) for path in NAMED]
    assert _real_runs([run for run in runs if run[0] in _commands(bad)], env) == []


def test_commands_that_read_no_settings_ignore_a_bad_database_url(world) -> None:
    """The exclusion list is honest: these commands answer the same with any database URL."""
    tmp, env = world
    garbage = {**env, "GATEPASS_DATABASE_URL": "garbage", "XDG_CONFIG_HOME": str(tmp / "none")}
    for path in sorted(NO_SETTINGS):
        result = invoke(argv_for(path, tmp / "export.json"), garbage)
        assert "database" not in result.output, (path, result.output)
