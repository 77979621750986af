"""Kinds of second factor, the login methods each offers, and what a login's `amr` says.

`FACTOR_KINDS` is the registry: a factor kind a user can hold (`totp` today; passkeys register
`webauthn`), in the order `methods` lists them, with the methods at `/auth/login/mfa` it opens.
A new kind adds one entry here and its store; the login step, the policy and the admin reset
read the registry, never a list of their own.

`amr` values are RFC 8176's: `pwd` (a password), `otp` (a one-time code: TOTP or a recovery
code), `mfa` (more than one factor), `hwk`/`swk` (a hardware / software-protected key: passkeys).
`acr` is gatepass's own URN: `urn:gatepass:acr:mfa` when `mfa` is among the `amr` values,
`urn:gatepass:acr:pwd` for a single factor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

AMR_PASSWORD = "pwd"
AMR_OTP = "otp"
AMR_MFA = "mfa"
AMR_HARDWARE_KEY = "hwk"
AMR_SOFTWARE_KEY = "swk"

ACR_MFA = "urn:gatepass:acr:mfa"
ACR_PASSWORD = "urn:gatepass:acr:pwd"

METHOD_TOTP = "totp"
METHOD_RECOVERY_CODE = "recovery_code"
METHOD_WEBAUTHN = "webauthn"


@dataclass(frozen=True, slots=True)
class FactorKind:
    name: str  # as stored and as shown (`factors` in `gatepass user show`)
    methods: tuple[str, ...]  # what /auth/login/mfa accepts for it, in `methods` order
    amr: tuple[str, ...]  # what a login completed with it adds to `pwd`


FACTOR_KINDS: dict[str, FactorKind] = {}


def register(kind: FactorKind) -> None:
    FACTOR_KINDS[kind.name] = kind


register(FactorKind("totp", (METHOD_TOTP, METHOD_RECOVERY_CODE), (AMR_OTP,)))
register(FactorKind("webauthn", (METHOD_WEBAUTHN,), (AMR_HARDWARE_KEY,)))


def methods_for(kinds: Iterable[str]) -> list[str]:
    """The `methods` a user with these confirmed factor kinds may use, in registry order."""
    held = set(kinds)
    methods: list[str] = []
    for kind in FACTOR_KINDS.values():
        if kind.name in held:
            methods.extend(m for m in kind.methods if m not in methods)
    return methods


def second_factor_amr(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    """`amr` for a login of two factors: both factors' values and `mfa`, sorted."""
    return tuple(sorted({*first, *second, AMR_MFA}))


def acr_for(amr: Iterable[str]) -> str | None:
    values = set(amr)
    if not values:
        return None
    return ACR_MFA if AMR_MFA in values else ACR_PASSWORD
