"""Durations in settings: seconds as a number, or text such as `90s`, `15m`, `72h`, `30d`.

Kept apart from `gatepass.config` so that the per-dialect settings blocks
(`gatepass.dialect_settings`), which `config` composes, can use the same type.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

from gatepass.core.text import clip

# At most 15 digits: beyond that a number is no duration anyone means (and Python refuses to
# convert literals over 4,300 digits with an error of its own).
_DURATION = re.compile(r"^\s*(\d{1,15})\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> float:
    """Accept seconds as a number, or a string such as `90s`, `15m`, `72h`, `30d`."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 900, '15m', '72h' or '30d'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    else:
        raise ValueError(f"invalid duration {clip(value)!r}: use e.g. 900, '15m', '72h' or '30d'")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def format_duration(seconds: float) -> str:
    """The inverse of `parse_duration` for whole units: 259200 -> '72h' (osais's `duration`)."""
    whole = int(seconds)
    if whole and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole and whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s"


Duration = Annotated[float, BeforeValidator(parse_duration)]
