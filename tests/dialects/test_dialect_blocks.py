"""Each dialect surface and token profile reads its own settings block (issue 16): every
dialect, every field, enumerated from the registries, so a new dialect is covered."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatepass.app.profiles import build_profiles
from gatepass.dialect_settings import DIALECT_BLOCKS
from gatepass.http.context import Gate
from gatepass.http.dialects import DIALECTS
from tests.conftest import make_settings


def test_every_surface_has_a_block_and_every_block_a_surface() -> None:
    assert list(DIALECTS) == list(DIALECT_BLOCKS)


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_the_surface_takes_its_own_failure_delay(dialect: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, dialects="all").with_overrides(
        dialects={dialect: {"failure_delay": "250ms"}}
    )
    gate = Gate(settings=settings)
    delays = {name: surface(gate).failure_delay for name, surface in DIALECTS.items()}
    assert delays == {name: (0.25 if name == dialect else 0) for name in DIALECTS}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_the_profile_takes_each_lifetime_of_its_block(dialect: str, tmp_path: Path) -> None:
    lifetimes = [name for name in DIALECT_BLOCKS[dialect].model_fields if name.endswith("_ttl")]
    assert lifetimes, "every dialect issues tokens, so has at least one lifetime"
    # Distinct values, each found in the profile: a profile reading another field (or another
    # dialect's) would not show it.
    chosen = {name: 1000.0 + index for index, name in enumerate(lifetimes)}
    settings = make_settings(tmp_path).with_overrides(dialects={dialect: chosen})
    profile = build_profiles(settings)[dialect]
    used = {profile.access_ttl, profile.refresh_ttl, profile.session_lifetime}
    assert set(chosen.values()) <= used
    others = build_profiles(make_settings(tmp_path))
    assert {name: p for name, p in build_profiles(settings).items() if name != dialect} == {
        name: p for name, p in others.items() if name != dialect
    }
