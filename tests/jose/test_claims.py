"""The registered-claim checks of gatepass.jose, against a frozen clock."""

from __future__ import annotations

from typing import Any

import pytest

from gatepass.core.clock import FrozenClock
from gatepass.jose.claims import check_audience, check_issuer, check_lifetime, check_subject
from gatepass.jose.refusal import Reason, Refused
from tests.jose.forge import NOW

LEEWAY = 30.0


def lifetime(claims: dict[str, Any], clock: FrozenClock, **options: Any) -> Reason | None:
    try:
        check_lifetime(
            claims,
            now=clock.now(),
            leeway=LEEWAY,
            require_iat=options.pop("require_iat", True),
            **options,
        )
    except Refused as refused:
        return refused.reason
    return None


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def test_exp_allows_the_leeway_and_not_a_moment_more(clock):
    claims = {"exp": NOW, "iat": NOW - 60}
    clock.set(NOW + LEEWAY - 0.001)
    assert lifetime(claims, clock) is None
    clock.set(NOW + LEEWAY)
    assert lifetime(claims, clock) is Reason.EXPIRED
    assert lifetime(claims, clock, check_expiry=False) is None  # e.g. a token being revoked


def test_nbf_allows_the_leeway_and_not_a_moment_more(clock):
    claims = {"exp": NOW + 600, "iat": NOW - 60, "nbf": NOW + LEEWAY}
    assert lifetime(claims, clock) is None
    clock.set(NOW - 0.001)
    assert lifetime(claims, clock) is Reason.NOT_YET_VALID


def test_iat_in_the_future_beyond_the_leeway_is_refused(clock):
    assert lifetime({"exp": NOW + 600, "iat": NOW + LEEWAY}, clock) is None
    assert lifetime({"exp": NOW + 600, "iat": NOW + LEEWAY + 1}, clock) is Reason.ISSUED_IN_FUTURE


@pytest.mark.parametrize("value", [None, "1800000000", True, [NOW], {"t": NOW}])
def test_exp_must_be_a_number(clock, value):
    claims = {"exp": value, "iat": NOW} if value is not None else {"iat": NOW}
    assert lifetime(claims, clock) is Reason.EXP_INVALID


@pytest.mark.parametrize("value", ["soon", False, [1]])
def test_nbf_and_iat_when_present_must_be_numbers(clock, value):
    assert lifetime({"exp": NOW + 600, "nbf": value}, clock, require_iat=False) is (
        Reason.NOT_YET_VALID
    )
    assert lifetime({"exp": NOW + 600, "iat": value}, clock, require_iat=False) is (
        Reason.ISSUED_IN_FUTURE
    )


def test_iat_is_required_only_when_asked(clock):
    assert lifetime({"exp": NOW + 600}, clock, require_iat=True) is Reason.IAT_INVALID
    assert lifetime({"exp": NOW + 600}, clock, require_iat=False) is None


def test_issuer_must_match_exactly():
    check_issuer({"iss": "https://id.example"}, "https://id.example")
    for iss in ("https://id.example/", "https://ID.example", None, ["https://id.example"]):
        with pytest.raises(Refused) as refused:
            check_issuer({"iss": iss}, "https://id.example")
        assert refused.value.reason is Reason.ISSUER


@pytest.mark.parametrize(
    ("aud", "accepted", "ok"),
    [
        ("api", ("api",), True),
        (["other", "api"], ("api",), True),
        ("api", ("web", "api"), True),
        ("Api", ("api",), False),
        (["other"], ("api",), False),
        ([["api"]], ("api",), False),
        ({"api": 1}, ("api",), False),
        (None, ("api",), False),
        ("Ωmega-api", ("Ωmega-api",), True),  # any text, not only ASCII
        ("\ud800", ("api",), False),  # a lone surrogate compares unequal, never raises
    ],
)
def test_audience(aud, accepted, ok):
    if ok:
        check_audience({"aud": aud}, accepted)
    else:
        with pytest.raises(Refused) as refused:
            check_audience({"aud": aud}, accepted)
        assert refused.value.reason is Reason.AUDIENCE


@pytest.mark.parametrize("sub", [None, "", 42, ["alice"]])
def test_subject_must_be_a_non_empty_string(sub):
    with pytest.raises(Refused) as refused:
        check_subject({"sub": sub} if sub is not None else {})
    assert refused.value.reason is Reason.SUBJECT
    check_subject({"sub": "alice"})
