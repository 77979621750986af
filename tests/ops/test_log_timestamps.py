"""Log lines' `ts` and stored records' text checks take shortcuts (issue 19's audit cost): each
must give exactly what the plain way gives."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from gatepass.core.text import encodable, recordable, storable
from gatepass.observability.logs import timestamp

_UNSTORABLE = {"\x00", *map(chr, range(0xD800, 0xE000))}
_SURROGATES = set(map(chr, range(0xD800, 0xE000)))


def _reference(created: float) -> str:
    return dt.datetime.fromtimestamp(created, tz=dt.UTC).isoformat(timespec="milliseconds")


@given(st.floats(min_value=-2e9, max_value=4e9, allow_nan=False))
@example(0.0)
@example(-0.0000004)
@example(1765150000.9999996)  # rounds up into the next second
@example(1765150000.9995)
@example(-1.5)
def test_timestamp_is_datetimes_isoformat(created: float) -> None:
    assert timestamp(created) == _reference(created)
    assert timestamp(created) == _reference(created)  # the cached second as well


def test_timestamp_changes_with_the_second() -> None:
    assert timestamp(1765150000.25) == "2025-12-07T23:26:40.250+00:00"
    assert timestamp(1765150001.5) == "2025-12-07T23:26:41.500+00:00"
    assert timestamp(1765150000.25) == "2025-12-07T23:26:40.250+00:00"


@given(st.text())
@example("plain ascii")
@example("nul\x00inside")
@example("lone \ud800 surrogate")
@example("é\x00")
def test_text_checks_match_their_definition(text: str) -> None:
    assert storable(text) == (not any(c in _UNSTORABLE for c in text))
    assert encodable(text) == (not any(c in _SURROGATES for c in text))
    expected = "".join("\ufffd" if c in _UNSTORABLE else c for c in text)
    assert recordable(text) == expected
