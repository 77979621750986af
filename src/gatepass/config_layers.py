"""Where setting values come from, before `gatepass.config.Settings` validates them.

A `Layer` holds the values of one source — the config file, the `GATEPASS_*` variables, or a
program's overrides — sorted into the top-level settings and the per-dialect blocks
(`[dialects.<name>]`, `GATEPASS_DIALECTS__<NAME>__<FIELD>`), with the name each value was
written under, so that a problem names what the operator wrote. The flat per-dialect names of
earlier releases (`datarhei_failure_delay`, `GATEPASS_XPAY_TOKEN_TTL`) are accepted here as
deprecated aliases: each gives one warning line naming the new spelling. Nothing here imports
`gatepass.config`, which builds on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from gatepass.dialect_settings import DIALECT_BLOCKS, LEGACY_NAMES

ENV_PREFIX = "GATEPASS_"
ENABLED = "dialects"  # the top-level setting naming the dialects switched on

# Variables that are not settings: the config file's path, and the defaults of `gatepass login`
# (which talks to a remote server and reads no settings).
_ENV_ONLY = {"CONFIG", "REMOTE_URL", "REMOTE_USERNAME"}


def block_field(dialect: str, name: str) -> str:
    """The dotted name of a dialect block's field: `dialects.datarhei.failure_delay`."""
    return f"{ENABLED}.{dialect}.{name}"


def env_name(dialect: str, name: str) -> str:
    """The variable of a dialect block's field: `GATEPASS_DIALECTS__DATARHEI__FAILURE_DELAY`."""
    return f"{ENV_PREFIX}{ENABLED}__{dialect}__{name}".upper()


@dataclass
class Layer:
    """The values of one source (or of several, merged by `over`)."""

    values: dict[str, Any] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)  # setting -> variable or key used
    aliases: dict[str, str] = field(default_factory=dict)  # block field -> deprecated name used
    problems: list[str] = field(default_factory=list)
    deprecations: list[str] = field(default_factory=list)

    def put(self, setting: str, value: Any, written: str) -> None:
        if setting in self.written:
            self.problems.append(
                f"{self.written[setting]} and {written} both set {setting}: keep only one"
            )
            return
        self.written[setting] = written
        dialect, _, name = setting.removeprefix(f"{ENABLED}.").partition(".")
        if name:
            self.blocks.setdefault(dialect, {})[name] = value
        else:
            self.values[setting] = value

    def put_alias(self, alias: str, value: Any, written: str, new_name: str) -> None:
        dialect, name = LEGACY_NAMES[alias]
        setting = block_field(dialect, name)
        self.put(setting, value, written)
        self.aliases[setting] = alias
        self.deprecations.append(f"{written} is deprecated: use {new_name} (same value)")

    def over(self, top: Layer) -> Layer:
        """This layer with `top`'s values winning where both have one."""
        blocks = {name: dict(values) for name, values in self.blocks.items()}
        for name, values in top.blocks.items():
            blocks.setdefault(name, {}).update(values)
        aliases = {k: v for k, v in self.aliases.items() if k not in top.written}
        return Layer(
            values={**self.values, **top.values},
            blocks=blocks,
            written={**self.written, **top.written},
            aliases={**aliases, **top.aliases},
            problems=[*self.problems, *top.problems],
            deprecations=[*self.deprecations, *top.deprecations],
        )


def from_mapping(data: Mapping[str, Any]) -> Layer:
    """The config file's table (or a program's overrides), keys as written in the file."""
    layer = Layer()
    for key, value in data.items():
        if key == ENABLED and isinstance(value, Mapping):
            _dialects_table(layer, value)
        elif key in LEGACY_NAMES:
            dialect, name = LEGACY_NAMES[key]
            layer.put_alias(key, value, key, f"[{ENABLED}.{dialect}] {name}")
        else:
            layer.put(key, value, key)  # an unknown key is refused when Settings validates
    return layer


def _dialects_table(layer: Layer, table: Mapping[str, Any]) -> None:
    for dialect, value in table.items():
        if dialect == "enabled":
            layer.put(ENABLED, value, f"{ENABLED}.enabled")
        elif dialect not in DIALECT_BLOCKS:
            layer.problems.append(f"unknown setting '{ENABLED}.{dialect}'")
        elif not isinstance(value, Mapping):
            layer.problems.append(
                f"{ENABLED}.{dialect}: expected a table of settings ([{ENABLED}.{dialect}])"
            )
        else:
            known = DIALECT_BLOCKS[dialect].model_fields
            for name, item in value.items():
                setting = block_field(dialect, name)
                if name in known:
                    layer.put(setting, item, setting)
                else:
                    layer.problems.append(f"unknown setting '{setting}'")


def from_env(env: Mapping[str, str], known: Set[str]) -> Layer:
    """The `GATEPASS_*` variables; `known` are the top-level settings' names."""
    layer = Layer()
    for variable, value in env.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        key = variable[len(ENV_PREFIX) :].lower()
        if key.upper() in _ENV_ONLY:
            continue
        dialect, _, name = key.removeprefix(f"{ENABLED}__").partition("__")
        if key == f"{ENABLED}__enabled":
            layer.put(ENABLED, value, variable)
        elif key.startswith(f"{ENABLED}__") and _is_block_field(dialect, name):
            layer.put(block_field(dialect, name), value, variable)
        elif key in LEGACY_NAMES:
            layer.put_alias(key, value, variable, env_name(*LEGACY_NAMES[key]))
        elif key in known:
            layer.put(key, value, variable)
        else:
            layer.problems.append(f"unknown setting {variable}")
    return layer


def _is_block_field(dialect: str, name: str) -> bool:
    return dialect in DIALECT_BLOCKS and name in DIALECT_BLOCKS[dialect].model_fields
