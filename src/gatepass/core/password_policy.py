"""The password policy of NIST SP 800-63B §3.1.1.2: length, a blocklist, breached passwords.

No composition rules (no "one digit, one symbol") and no expiry, as 800-63B asks. A new password
(set by an administrator, the CLI, or later the user) must:

- be at least `min_length` characters (default 8; 15 is the 800-63B figure for a password
  that is the only factor) and at most 1,024;
- not be one of the 30,000 most common passwords (case-insensitively), nor the account's own
  username, email address or "gatepass" — the blocklist is the `passwords` frequency list that
  the `zxcvbn` package ships (MIT licence; the top of Mark Burnett's 10-million-password set),
  loaded on first use;
- optionally, not appear in Have I Been Pwned's Pwned Passwords, asked by k-anonymity: only
  the first five hex digits of the password's SHA-1 leave the process (`BreachedPasswords`).
  If that service cannot be reached, `fail_closed` decides between refusing the password for
  now (`UpstreamUnavailable`) and accepting it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from gatepass.core.errors import UpstreamUnavailable, WeakPassword

MAX_LENGTH = 1024
DEFAULT_MIN_LENGTH = 8


class BreachedPasswords(Protocol):
    """The Pwned Passwords range API: every known SHA-1 suffix (35 upper-case hex digits) for a
    5-digit prefix, with its count. Raises UpstreamUnavailable when it cannot answer."""

    async def range(self, prefix: str) -> dict[str, int]: ...


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    min_length: int = DEFAULT_MIN_LENGTH
    blocklist: bool = True
    breached: BreachedPasswords | None = None
    fail_closed: bool = False

    async def check(self, password: str, context: Iterable[str | None] = ()) -> str:
        """The password, if the policy accepts it; WeakPassword saying why otherwise."""
        if len(password) < self.min_length:
            raise WeakPassword(f"a password must be at least {self.min_length} characters")
        if len(password) > MAX_LENGTH:
            raise WeakPassword(f"a password must be at most {MAX_LENGTH} characters")
        folded = password.casefold()
        if self.blocklist and folded in common_passwords():
            raise WeakPassword("this password is too common: choose another")
        words = {word.casefold() for word in context if word} | {"gatepass"}
        if folded in words:
            raise WeakPassword("a password cannot be the account's name, email or 'gatepass'")
        if self.breached is not None and await self._breached(password):
            raise WeakPassword(
                "this password has appeared in a data breach (Pwned Passwords): choose another"
            )
        return password

    async def _breached(self, password: str) -> bool:
        # SHA-1 is what the range API indexes; it is a lookup key here, not a password hash.
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        assert self.breached is not None
        try:
            found = await self.breached.range(digest[:5])
        except UpstreamUnavailable:
            if self.fail_closed:
                raise UpstreamUnavailable(
                    "the breached-password check is unavailable: try again shortly"
                ) from None
            return False
        return found.get(digest[5:], 0) > 0
