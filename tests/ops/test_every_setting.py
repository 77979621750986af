"""Every setting, read from Settings.model_fields: a bad value of each gives one line naming the
setting, from `load_settings` and from the CLI (exit status 1, no traceback), and no value of
any setting, from the environment or the file, gives anything but valid settings or such lines
(issue 15 §3)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatepass.config import ConfigError, Settings, load_settings
from tests.cli.tree import invoke

FIELDS = sorted(Settings.model_fields)

# A value of the wrong type for each kind of setting; text and paths have no wrong type, but a
# control character is wrong in every setting.
WRONG_BY_TYPE: dict[Any, str] = {
    int: "many",
    float: "forever",  # every float setting is a duration
    bool: "maybe",
    frozenset: "no-such-thing",
    tuple: "not an address",  # trusted_proxies; issuers cannot come from the environment
}
# Settings whose type alone gives no wrong value: a list of scopes takes any words, but a
# double quote is no scope character (RFC 6749 §3.3).
WRONG_BY_NAME: dict[str, str] = {"privileged_scopes": 'say"what'}
CONTROL = "bad\x07value"


def _kind(name: str) -> Any:
    annotation = Settings.model_fields[name].annotation
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Literal:
        return typing.Literal
    return typing.get_origin(annotation) or annotation


def wrong_values(name: str) -> list[str]:
    kind = _kind(name)
    typed = [WRONG_BY_TYPE[kind]] if kind in WRONG_BY_TYPE else []
    if name in WRONG_BY_NAME:
        typed = [WRONG_BY_NAME[name]]
    if kind is typing.Literal:
        typed = ["none-of-these"]
    return [*typed, CONTROL]


def test_every_kind_of_setting_is_known() -> None:
    """A setting of a new kind must get a wrong value here (or be text or a path)."""
    kinds = {_kind(name) for name in FIELDS}
    assert kinds <= {*WRONG_BY_TYPE, typing.Literal, str, Path}


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_settings(env=env)
    return error.value.problems


@pytest.mark.parametrize("name", FIELDS)
def test_a_wrong_value_of_each_setting_is_one_line_naming_it(name: str) -> None:
    variable = f"GATEPASS_{name.upper()}"
    for value in wrong_values(name):
        problems = _problems({variable: value})
        assert len(problems) == 1, (value, problems)
        assert problems[0].startswith(f"{variable}: "), (value, problems)
        assert "\n" not in problems[0]
        assert "\x07" not in problems[0]


@pytest.mark.parametrize("name", FIELDS)
def test_the_cli_prints_that_one_line(name: str, tmp_path: Path) -> None:
    variable = f"GATEPASS_{name.upper()}"
    value = wrong_values(name)[0]
    result = invoke(["user", "list"], {"GATEPASS_HOME": str(tmp_path), variable: value})
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: invalid configuration: {variable}: ")
    assert result.stderr.count("\n") == 1


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FIELDS), value=st.text())
def test_any_text_in_any_variable_is_valid_or_one_line_per_problem(name: str, value: str) -> None:
    _valid_or_one_line(lambda: load_settings(env={f"GATEPASS_{name.upper()}": value}))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FIELDS), value=toml_values)
def test_any_value_in_the_file_is_valid_or_one_line_per_problem(name: str, value: Any) -> None:
    _valid_or_one_line(lambda: load_settings(env={}).with_overrides(**{name: value}))


def _valid_or_one_line(build: Any) -> None:
    """Valid settings, or a ConfigError (nothing else) whose problems are one line each."""
    problems: list[str] = []
    try:
        build()
    except ConfigError as error:
        problems = error.problems or ["(no problem given)\n"]
    assert [p for p in problems if not p or "\n" in p or "\r" in p] == []


def _one_line_error(argv: list[str], env: dict[str, str]) -> str:
    result = invoke(argv, {"GATEPASS_ARGON2_MEMORY_COST": "1024", **env})
    assert (result.exit_code, result.stdout) == (1, ""), result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_settings_found_wrong_only_when_used_are_one_line_too(tmp_path: Path) -> None:
    """A home that is a file, a master key file that holds no key, a metrics directory that
    cannot be made: valid text, one line when a command uses it."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x\n")
    assert _one_line_error(["init"], {"GATEPASS_HOME": str(a_file)}) == (
        f"error: {a_file} exists and is not a directory — fix GATEPASS_HOME\n"
    )
    assert _one_line_error(["init"], {"GATEPASS_HOME": str(a_file / "var")}) == (
        f"error: cannot create {a_file / 'var'}: Not a directory — fix GATEPASS_HOME\n"
    )
    home = tmp_path / "var"
    assert invoke(["init"], {"GATEPASS_HOME": str(home)}).exit_code == 0
    metrics = {"GATEPASS_HOME": str(home), "GATEPASS_METRICS_DIR": str(a_file)}
    assert _one_line_error(["serve", "--workers", "2"], metrics) == (
        f"error: cannot use {a_file} for the workers' metrics: File exists — fix metrics_dir\n"
    )
    (home / "master.key").write_text("not a key\n")
    assert _one_line_error(["user", "list"], {"GATEPASS_HOME": str(home)}) == (
        f"error: {home / 'master.key'} does not hold a master key (the master key must be 32 "
        "bytes (base64url-encoded)): restore it\n"
    )
