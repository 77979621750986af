from __future__ import annotations

from pathlib import Path

import pytest

from gatepass.config import (
    ALL_DIALECTS,
    ConfigError,
    format_duration,
    load_settings,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (900, 900),
        ("900", 900),
        ("15m", 900),
        ("72h", 259200),
        ("30d", 2592000),
        ("1w", 604800),
        ("250ms", 0.25),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["abc", "-5", "5y", "", True])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_format_duration():
    assert format_duration(259200) == "72h"
    assert format_duration(600) == "10m"
    assert format_duration(45) == "45s"


def test_environment_and_file(tmp_path: Path):
    config = tmp_path / "gatepass.toml"
    config.write_text('issuer = "https://auth.example.com/"\naccess_token_ttl = "5m"\n')
    settings = load_settings(
        config, env={"GATEPASS_ACCESS_TOKEN_TTL": "10m", "GATEPASS_DIALECTS": "osais, xpay"}
    )
    assert settings.issuer == "https://auth.example.com"
    assert settings.access_token_ttl == 600  # the environment wins over the file
    assert settings.dialects == frozenset({"osais", "xpay"})
    assert load_settings(env={"GATEPASS_DIALECTS": "all"}).dialects == frozenset(ALL_DIALECTS)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEPASS_ACESS_TOKEN_TTL": "5m"}, "unknown setting GATEPASS_ACESS_TOKEN_TTL"),
        (
            {"GATEPASS_ACCESS_TOKEN_TTL": "soon"},
            "GATEPASS_ACCESS_TOKEN_TTL: invalid duration 'soon'",
        ),
        (
            {"GATEPASS_SIGNING_ALG": "HS256", "GATEPASS_HS256_SECRET": "short"},
            "hs256_secret is too short: HS256 needs at least 32 bytes",
        ),
        (
            {"GATEPASS_SIGNING_ALG": "none"},
            "GATEPASS_SIGNING_ALG: Input should be 'ES256', 'EdDSA' or 'HS256'",
        ),
        (
            {"GATEPASS_REFRESH_TOKEN_TTL": "60d"},
            "refresh_token_ttl cannot exceed session_max_lifetime",
        ),
        ({"GATEPASS_DIALECTS": "osais,soap"}, "unknown dialect(s) soap"),
        ({"GATEPASS_ISSUER": "auth.example.com"}, "GATEPASS_ISSUER: must be an http(s) URL"),
    ],
)
def test_each_problem_has_one_clear_message(env, message):
    with pytest.raises(ConfigError) as error:
        load_settings(env=env)
    assert any(message in problem for problem in error.value.problems), error.value.problems


def test_unknown_key_in_file(tmp_path: Path):
    config = tmp_path / "gatepass.toml"
    config.write_text('isuer = "https://x"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert error.value.problems == ["unknown setting 'isuer'"]


def test_missing_and_broken_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("issuer = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, env={})
