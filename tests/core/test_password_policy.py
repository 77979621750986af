"""The password policy (NIST SP 800-63B): length, no composition rules, the shipped blocklist,
the account's own names, and the breached-password check's fail-open/closed rule."""

from __future__ import annotations

import hashlib

import pytest

from gatepass.core.errors import UpstreamUnavailable, WeakPassword
from gatepass.core.password_policy import PasswordPolicy, common_passwords


class FakeRange:
    """Pwned Passwords' range answers from a fixed set of breached passwords."""

    def __init__(self, breached: list[str], *, down: bool = False) -> None:
        self.hashes = {hashlib.sha1(p.encode()).hexdigest().upper() for p in breached}
        self.down = down
        self.asked: list[str] = []

    async def range(self, prefix: str) -> dict[str, int]:
        self.asked.append(prefix)
        if self.down:
            raise UpstreamUnavailable("down")
        return {h[5:]: 7 for h in self.hashes if h.startswith(prefix)} | {"0" * 35: 0}


async def test_length_bounds():
    policy = PasswordPolicy(min_length=15)
    with pytest.raises(WeakPassword, match="at least 15 characters"):
        await policy.check("fourteen-chars")
    assert await policy.check("fifteen-chars!!") == "fifteen-chars!!"
    with pytest.raises(WeakPassword, match="at most 1024"):
        await policy.check("x" * 1025)


async def test_no_composition_rules():
    # All lower case, no digit, no symbol: fine, as 800-63B §3.1.1.2 asks.
    assert await PasswordPolicy().check("correct horse battery staple")


def test_the_blocklist_is_the_shipped_30000():
    common = common_passwords()
    assert len(common) == 30000
    assert {"123456", "password", "qwerty", "iloveyou", "trustno1"} <= common


@pytest.mark.parametrize("password", ["password123", "PASSWORD1", "qwertyuiop", "iloveyou"])
async def test_common_passwords_are_refused_case_insensitively(password):
    with pytest.raises(WeakPassword, match="too common"):
        await PasswordPolicy().check(password)
    assert await PasswordPolicy(blocklist=False).check(password) == password


async def test_the_accounts_own_names_are_refused():
    with pytest.raises(WeakPassword, match="account's name"):
        await PasswordPolicy().check("Alice@Example.com", ("alice", "alice@example.com"))
    with pytest.raises(WeakPassword):
        await PasswordPolicy().check("GATEPASS")


async def test_breached_passwords_are_refused_by_k_anonymity():
    breached = FakeRange(["a-leaked-passphrase"])
    policy = PasswordPolicy(breached=breached)
    with pytest.raises(WeakPassword, match="data breach"):
        await policy.check("a-leaked-passphrase")
    assert await policy.check("a-fresh-passphrase-9") == "a-fresh-passphrase-9"
    # Only five hex digits of each SHA-1 left the process.
    assert [len(prefix) for prefix in breached.asked] == [5, 5]


async def test_an_unreachable_range_api_fails_open_by_default_and_closed_when_set():
    assert await PasswordPolicy(breached=FakeRange([], down=True)).check("fine-passphrase-1")
    closed = PasswordPolicy(breached=FakeRange([], down=True), fail_closed=True)
    with pytest.raises(UpstreamUnavailable, match="breached-password check is unavailable"):
        await closed.check("fine-passphrase-1")
