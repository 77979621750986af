"""Each dialect's settings block (issue 16): every field of every block, enumerated from the
models, set by the new TOML table, the new variable and the deprecated flat names, each of
which still works and says once what to write instead."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from gatepass.config import ConfigError, Settings, load_settings
from gatepass.dialect_settings import DIALECT_BLOCKS, LEGACY_NAMES, DialectSettings

FIELDS = [
    (dialect, name) for dialect, model in DIALECT_BLOCKS.items() for name in model.model_fields
]
IDS = [f"{dialect}.{name}" for dialect, name in FIELDS]
SEVEN_MINUTES = 420.0


def _new_env(dialect: str, name: str) -> str:
    return f"GATEPASS_DIALECTS__{dialect.upper()}__{name.upper()}"


def _legacy(dialect: str, name: str) -> str:
    return f"{dialect}_{name}"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gatepass.toml"
    path.write_text(text)
    return path


def _field(settings: Settings, dialect: str, name: str) -> Any:
    return getattr(settings.dialect_settings.block(dialect), name)


def _only_changed(settings: Settings, dialect: str, name: str, value: float) -> None:
    """The one field has the value; every other field of every block keeps its default."""
    expected = DialectSettings().model_dump()
    expected[dialect][name] = value
    assert settings.dialect_settings.model_dump() == expected


def test_the_twelve_flat_names_of_earlier_releases_are_the_aliases() -> None:
    assert sorted(LEGACY_NAMES) == sorted(
        [
            "osais_token_ttl",
            "cloudio_jwt_ttl",
            "unduit_token_ttl",
            "unduit_refresh_ttl",
            "datarhei_access_ttl",
            "datarhei_refresh_ttl",
            "xpay_token_ttl",
            "osais_failure_delay",
            "cloudio_failure_delay",
            "unduit_failure_delay",
            "datarhei_failure_delay",
            "xpay_failure_delay",
        ]
    )
    assert sorted(LEGACY_NAMES) == sorted(_legacy(*pair) for pair in FIELDS)
    assert not set(LEGACY_NAMES) & set(Settings.model_fields)


def test_the_defaults_are_the_contracts() -> None:
    blocks = load_settings(env={}).dialect_settings
    assert blocks.osais.token_ttl == 72 * 3600
    assert blocks.cloudio.jwt_ttl == 12 * 3600
    assert (blocks.unduit.token_ttl, blocks.unduit.refresh_ttl) == (4 * 3600, 14 * 86400)
    assert (blocks.datarhei.access_ttl, blocks.datarhei.refresh_ttl) == (600, 86400)
    assert blocks.xpay.token_ttl == 24 * 3600
    assert {blocks.block(dialect).failure_delay for dialect in DIALECT_BLOCKS} == {0}


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_the_new_table_in_the_file(dialect: str, name: str, tmp_path: Path, caplog) -> None:
    config = _file(tmp_path, f'[dialects.{dialect}]\n{name} = "7m"\n')
    with caplog.at_level(logging.WARNING):
        settings = load_settings(config, env={})
    _only_changed(settings, dialect, name, SEVEN_MINUTES)
    assert caplog.records == []


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_the_new_variable(dialect: str, name: str, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        settings = load_settings(env={_new_env(dialect, name): "7m"})
    _only_changed(settings, dialect, name, SEVEN_MINUTES)
    assert caplog.records == []


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_the_deprecated_variable(dialect: str, name: str, caplog) -> None:
    legacy = f"GATEPASS_{_legacy(dialect, name).upper()}"
    with caplog.at_level(logging.WARNING):
        settings = load_settings(env={legacy: "7m"})
    _only_changed(settings, dialect, name, SEVEN_MINUTES)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "gatepass.config",
            "WARNING",
            f"{legacy} is deprecated: use {_new_env(dialect, name)} (same value)",
        )
    ]


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_the_deprecated_key_in_the_file(dialect: str, name: str, tmp_path: Path, caplog) -> None:
    legacy = _legacy(dialect, name)
    config = _file(tmp_path, f'{legacy} = "7m"\n')
    with caplog.at_level(logging.WARNING):
        settings = load_settings(config, env={})
    _only_changed(settings, dialect, name, SEVEN_MINUTES)
    assert [r.getMessage() for r in caplog.records] == [
        f"{legacy} is deprecated: use [dialects.{dialect}] {name} (same value)"
    ]


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_overrides_take_both_names(dialect: str, name: str) -> None:
    base = load_settings(env={})
    _only_changed(base.with_overrides(**{_legacy(dialect, name): 5}), dialect, name, 5)
    nested = base.with_overrides(dialects={dialect: {name: "5s"}})
    _only_changed(nested, dialect, name, 5)
    assert nested.dialects == base.dialects  # a table without `enabled` switches nothing
    # A copy keeps the blocks it was not asked to change.
    assert nested.with_overrides(audience="x").dialect_settings == nested.dialect_settings


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_the_environment_wins_over_the_file_whatever_the_spelling(
    dialect: str, name: str, tmp_path: Path
) -> None:
    legacy = _legacy(dialect, name)
    new_file = _file(tmp_path, f'[dialects.{dialect}]\n{name} = "1m"\n')
    env = {f"GATEPASS_{legacy.upper()}": "2m"}
    assert _field(load_settings(new_file, env=env), dialect, name) == 120
    old_file = _file(tmp_path, f'{legacy} = "1m"\n')
    env = {_new_env(dialect, name): "3m"}
    assert _field(load_settings(old_file, env=env), dialect, name) == 180


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_both_spellings_in_one_source_is_one_problem(
    dialect: str, name: str, tmp_path: Path
) -> None:
    legacy = _legacy(dialect, name)
    env = {f"GATEPASS_{legacy.upper()}": "1m", _new_env(dialect, name): "2m"}
    with pytest.raises(ConfigError) as error:
        load_settings(env=env)
    first, second = sorted(env)  # the order the variables are read in is not the point
    assert len(error.value.problems) == 1
    assert error.value.problems[0].endswith(f"both set dialects.{dialect}.{name}: keep only one")
    assert set(error.value.problems[0].split(" both set ")[0].split(" and ")) == {first, second}
    config = _file(tmp_path, f'{legacy} = "1m"\n[dialects.{dialect}]\n{name} = "2m"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert error.value.problems == [
        f"{legacy} and dialects.{dialect}.{name} both set dialects.{dialect}.{name}: keep only one"
    ]


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_a_bad_value_is_one_line_naming_what_was_written(
    dialect: str, name: str, tmp_path: Path
) -> None:
    legacy = _legacy(dialect, name)
    for env, written in [
        ({_new_env(dialect, name): "forever"}, _new_env(dialect, name)),
        ({f"GATEPASS_{legacy.upper()}": "forever"}, f"GATEPASS_{legacy.upper()}"),
    ]:
        with pytest.raises(ConfigError) as error:
            load_settings(env=env)
        assert error.value.problems == [
            f"{written}: invalid duration 'forever': use e.g. 900, '15m', '72h' or '30d'"
        ]
    config = _file(tmp_path, f'[dialects.{dialect}]\n{name} = "forever"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert error.value.problems == [
        f"dialects.{dialect}.{name}: invalid duration 'forever': use e.g. 900, '15m', '72h' "
        "or '30d'"
    ]


@pytest.mark.parametrize(("dialect", "name"), [pair for pair in FIELDS if pair[1].endswith("_ttl")])
def test_a_lifetime_must_be_positive_by_either_name(dialect: str, name: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(env={_new_env(dialect, name): "0"})
    assert error.value.problems == [f"dialects.{dialect}.{name} must be positive"]
    with pytest.raises(ConfigError) as error:
        load_settings(env={f"GATEPASS_{_legacy(dialect, name).upper()}": "0"})
    assert error.value.problems == [f"{_legacy(dialect, name)} must be positive"]


def test_unknown_dialects_and_fields_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            env={
                "GATEPASS_DIALECTS__SOAP__FAILURE_DELAY": "1s",
                "GATEPASS_DIALECTS__DATARHEI__FAILUR_DELAY": "1s",
            }
        )
    assert sorted(error.value.problems) == [
        "unknown setting GATEPASS_DIALECTS__DATARHEI__FAILUR_DELAY",
        "unknown setting GATEPASS_DIALECTS__SOAP__FAILURE_DELAY",
    ]
    config = _file(
        tmp_path,
        "[dialects.soap]\nfailure_delay = 1\n[dialects.datarhei]\nfailur_delay = 1\n"
        "[dialects]\nosais = 5\n",
    )
    with pytest.raises(ConfigError) as error:
        load_settings(config, env={})
    assert error.value.problems == [
        "unknown setting 'dialects.soap'",
        "unknown setting 'dialects.datarhei.failur_delay'",
        "dialects.osais: expected a table of settings ([dialects.osais])",
    ]


def test_the_dialects_switched_on_in_each_spelling(tmp_path: Path) -> None:
    table = _file(
        tmp_path,
        '[dialects]\nenabled = ["osais", "datarhei"]\n[dialects.datarhei]\nfailure_delay = "5s"\n',
    )
    settings = load_settings(table, env={})
    assert settings.dialects == frozenset({"osais", "datarhei"})
    assert settings.dialect_settings.datarhei.failure_delay == 5
    short = _file(tmp_path, 'dialects = "all"\n')
    assert load_settings(short, env={}).dialects == frozenset(DIALECT_BLOCKS)
    env = {"GATEPASS_DIALECTS__ENABLED": "xpay", "GATEPASS_DIALECTS__XPAY__TOKEN_TTL": "1h"}
    settings = load_settings(short, env=env)
    assert settings.dialects == frozenset({"xpay"})
    assert settings.dialect_settings.xpay.token_ttl == 3600
    with pytest.raises(ConfigError) as error:
        load_settings(env={"GATEPASS_DIALECTS": "all", "GATEPASS_DIALECTS__ENABLED": "xpay"})
    assert error.value.problems == [
        "GATEPASS_DIALECTS and GATEPASS_DIALECTS__ENABLED both set dialects: keep only one"
    ]
    with pytest.raises(ConfigError) as error:
        load_settings(env={"GATEPASS_DIALECTS__ENABLED": "soap"})
    assert error.value.problems == [
        "GATEPASS_DIALECTS__ENABLED: unknown dialect(s) soap; choose from osais, cloudio, "
        "unduit, datarhei, xpay or 'all'"
    ]


def test_a_dump_has_the_file_s_shape_and_loads_back(tmp_path: Path) -> None:
    settings = load_settings(
        env={"GATEPASS_DIALECTS": "xpay,osais", "GATEPASS_DIALECTS__UNDUIT__TOKEN_TTL": "1h"}
    )
    dumped = settings.model_dump(mode="json")["dialects"]
    assert dumped == {"enabled": ["osais", "xpay"], **DialectSettings().model_dump(mode="json")} | {
        "unduit": {"failure_delay": 0.0, "token_ttl": 3600.0, "refresh_ttl": 1209600.0}
    }
    assert list(dumped) == ["enabled", *DIALECT_BLOCKS]
    assert Settings.model_fields.keys() <= settings.model_dump().keys()
    assert settings.with_overrides() == settings


@pytest.mark.parametrize(("dialect", "name"), FIELDS, ids=IDS)
def test_every_field_is_documented(dialect: str, name: str) -> None:
    reference = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    rows = (f"| `[dialects.{dialect}]` | `{name}` |", f"| every block | `{name}` |")
    assert any(row in reference for row in rows)
