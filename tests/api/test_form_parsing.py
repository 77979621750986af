"""Form bodies with nothing to unquote skip `parse_qsl` (http/wire.py): the result, and every
refusal, must be exactly parse_qsl's (strict, blank values kept, at most 200 fields)."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest

from gatepass.http.wire import WireError, form_pairs


def reference(text: str) -> list[tuple[str, str]] | None:
    try:
        return parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=200
        )
    except ValueError:
        return None


def ours(text: str) -> list[tuple[str, str]] | None:
    try:
        return form_pairs(text.encode())
    except WireError:
        return None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "grant_type=client_credentials&scope=api:read",
        "a=&b=",
        "a=b=c",
        "a",
        "=",
        "&",
        "a=1&&b=2",
        "a=1&",
        "&a=1",
        "a=1;b=2",
        "a%20b=c+d",
        "a=" + "&b=".join(["x"] * 199),  # 200 fields: the most allowed
        "a=" + "&b=".join(["x"] * 200),  # 201: refused
    ],
)
def test_simple_bodies_parse_as_parse_qsl_does(text):
    assert ours(text) == reference(text)


def test_random_bodies_parse_as_parse_qsl_does():
    rng = random.Random(19)
    for _ in range(20_000):
        text = "".join(rng.choice("ab=&%+2;x ") for _ in range(rng.randint(0, 12)))
        assert ours(text) == reference(text), text
