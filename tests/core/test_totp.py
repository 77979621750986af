"""RFC 6238 Appendix B test vectors (SHA-1, the 20-byte ASCII secret "12345678901234567890")
through gatepass's TOTP module, and its drift and replay rules."""

from __future__ import annotations

import base64

import pyotp
import pytest

from gatepass.core.mfa import recovery, totp

SECRET = base64.b32encode(b"12345678901234567890").decode()
# (T in seconds, the 8-digit TOTP of RFC 6238 Appendix B, SHA-1)
VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "expected"), VECTORS)
def test_rfc6238_appendix_b_sha1_vectors(at, expected):
    assert pyotp.TOTP(SECRET, digits=8, interval=30).at(at) == expected
    # gatepass's codes are 6 digits: RFC 4226 §5.3 truncation modulo 10^6, the same value's tail.
    assert totp.code_at(SECRET, at) == expected[-6:]
    assert totp.match(SECRET, expected[-6:], at, None) == at // 30


@pytest.mark.parametrize(("at", "expected"), VECTORS)
def test_a_vector_is_accepted_one_step_late_or_early_but_not_two(at, expected):
    code = expected[-6:]
    assert totp.match(SECRET, code, at + 30, None) == at // 30
    assert totp.match(SECRET, code, at - 30, None) == at // 30
    assert totp.match(SECRET, code, at + 60, None) is None
    assert totp.match(SECRET, code, at - 60, None) is None


def test_a_step_at_or_before_the_last_used_is_refused():
    at, expected = VECTORS[1]
    step = at // 30
    assert totp.match(SECRET, expected[-6:], at, step - 1) == step
    assert totp.match(SECRET, expected[-6:], at, step) is None
    assert totp.match(SECRET, expected[-6:], at, step + 1) is None


@pytest.mark.parametrize("junk", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5"])
def test_malformed_codes_match_nothing(junk):
    assert totp.match(SECRET, junk, 59, None) is None


def test_spaces_in_a_code_are_ignored():
    assert totp.match(SECRET, " 287 082 ", 59, None) == 1


def test_new_secrets_are_160_bits_of_base32_and_differ():
    secrets = {totp.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(len(base64.b32decode(s)) == 20 for s in secrets)


def test_recovery_codes_are_ten_distinct_and_normalise_as_issued():
    codes = recovery.new_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert recovery.normalise(code.upper().replace("-", " ")) == code
