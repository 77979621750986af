"""Every configuration problem named by the operations issue has one clear line of its own,
and the CLI shows it (one line per problem) with exit status 1 and never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gatepass.config import ConfigError, load_settings
from tests.system.server import gatepass, gatepass_env

SECRET_32 = "s" * 32


@pytest.mark.parametrize(
    ("env", "problems"),
    [
        # unknown keys
        ({"GATEPASS_ACESS_TOKEN_TTL": "5m"}, ["unknown setting GATEPASS_ACESS_TOKEN_TTL"]),
        # impossible lifetimes
        ({"GATEPASS_ACCESS_TOKEN_TTL": "0"}, ["access_token_ttl must be positive"]),
        (
            {"GATEPASS_REFRESH_TOKEN_TTL": "-5"},
            [
                "GATEPASS_REFRESH_TOKEN_TTL: invalid duration '-5': "
                "use e.g. 900, '15m', '72h' or '30d'"
            ],
        ),
        ({"GATEPASS_XPAY_TOKEN_TTL": "0"}, ["xpay_token_ttl must be positive"]),
        ({"GATEPASS_CONSOLE_SESSION_TTL": "0"}, ["console_session_ttl must be positive"]),
        (
            {"GATEPASS_REFRESH_TOKEN_TTL": "60d"},
            ["refresh_token_ttl cannot exceed session_max_lifetime"],
        ),
        (
            {"GATEPASS_ACCESS_TOKEN_TTL": "40d"},
            ["access_token_ttl cannot exceed session_max_lifetime"],
        ),
        ({"GATEPASS_LOGIN_BAN": "2d"}, ["login_ban cannot exceed login_ban_max"]),
        # HS256
        (
            {"GATEPASS_SIGNING_ALG": "HS256"},
            ["signing_alg HS256 needs hs256_secret (at least 32 bytes)"],
        ),
        (
            {"GATEPASS_SIGNING_ALG": "HS256", "GATEPASS_HS256_SECRET": SECRET_32[:31]},
            ["hs256_secret is too short: HS256 needs at least 32 bytes"],
        ),
        # operations settings
        (
            {"GATEPASS_METRICS_TOKEN": "short"},
            ["metrics_token is too short: use at least 16 characters"],
        ),
        (
            {"GATEPASS_PURGE_BATCH": "5000", "GATEPASS_PURGE_MAX_ROWS": "1000"},
            ["purge_max_rows cannot be smaller than purge_batch"],
        ),
        # bounded connections (issue 22)
        ({"GATEPASS_HEADER_TIMEOUT": "0"}, ["header_timeout must be positive"]),
        (
            {"GATEPASS_MAX_HEADER_BYTES": "1000"},
            ["GATEPASS_MAX_HEADER_BYTES: Input should be greater than or equal to 4096"],
        ),
        (
            {"GATEPASS_MAX_CONNECTIONS": "0"},
            ["GATEPASS_MAX_CONNECTIONS: Input should be greater than or equal to 1"],
        ),
        (
            {"GATEPASS_LOG_FORMAT": "xml"},
            ["GATEPASS_LOG_FORMAT: Input should be 'json', 'logfmt' or 'plain'"],
        ),
        # several problems at once: one line each
        (
            {
                "GATEPASS_ACCESS_TOKEN_TTL": "0",
                "GATEPASS_REFRESH_TOKEN_TTL": "60d",
                "GATEPASS_SIGNING_ALG": "HS256",
            },
            [
                "access_token_ttl must be positive",
                "refresh_token_ttl cannot exceed session_max_lifetime",
                "signing_alg HS256 needs hs256_secret (at least 32 bytes)",
            ],
        ),
    ],
)
def test_each_problem_is_one_line(env, problems):
    with pytest.raises(ConfigError) as error:
        load_settings(env=env)
    assert error.value.problems == problems


def test_a_valid_hs256_configuration_passes():
    settings = load_settings(
        env={"GATEPASS_SIGNING_ALG": "HS256", "GATEPASS_HS256_SECRET": SECRET_32}
    )
    assert settings.signing_alg == "HS256"


def test_unknown_keys_in_the_file_are_named(tmp_path: Path):
    config = tmp_path / "gatepass.toml"
    config.write_text('isuer = "https://x"\nacces_token_ttl = "5m"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert error.value.problems == [
        "unknown setting 'isuer'",
        "unknown setting 'acces_token_ttl'",
    ]


def _cli_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.slow
def test_the_cli_prints_one_line_per_problem(tmp_path: Path):
    env = gatepass_env(
        tmp_path / "var",
        GATEPASS_ACCESS_TOKEN_TTL="0",
        GATEPASS_REFRESH_TOKEN_TTL="60d",
        GATEPASS_SIGNING_ALG="HS256",
    )
    assert _cli_error(gatepass("serve", env=env)) == (
        "error: invalid configuration (3 problems):\n"
        "  - access_token_ttl must be positive\n"
        "  - refresh_token_ttl cannot exceed session_max_lifetime\n"
        "  - signing_alg HS256 needs hs256_secret (at least 32 bytes)\n"
    )
    single = gatepass_env(
        tmp_path / "var", GATEPASS_HS256_SECRET="x" * 8, GATEPASS_SIGNING_ALG="HS256"
    )
    assert _cli_error(gatepass("user", "list", env=single)) == (
        "error: invalid configuration: hs256_secret is too short: HS256 needs at least 32 bytes\n"
    )


@pytest.mark.slow
def test_a_missing_or_wrong_master_key_for_an_existing_database(tmp_path: Path):
    env = gatepass_env(tmp_path / "var")
    assert gatepass("init", env=env).returncode == 0
    (tmp_path / "var" / "master.key").rename(tmp_path / "saved.key")
    missing = _cli_error(gatepass("serve", env=env))
    assert missing == (
        "error: no master key: set GATEPASS_MASTER_KEY or restore "
        f"{tmp_path / 'var' / 'master.key'} (the key this database was initialised with)\n"
    )
    wrong = gatepass_env(tmp_path / "var", GATEPASS_MASTER_KEY="A" * 43)
    assert _cli_error(gatepass("user", "list", env=wrong)) == (
        "error: the master key does not match this database: set the GATEPASS_MASTER_KEY "
        "(or master.key file) it was initialised with\n"
    )
