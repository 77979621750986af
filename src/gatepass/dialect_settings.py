"""Each login dialect's own settings block: `[dialects.<name>]` in the config file and
`GATEPASS_DIALECTS__<NAME>__<FIELD>` in the environment.

One model per dialect declares that dialect's fields and defaults (the defaults of its contract,
`../shared/dialects.md`); `DialectSettings` composes them and `gatepass.config` reads it. They
live here rather than in the surface modules (`gatepass.http.dialects.*`) because those import
the web framework and `gatepass.config`: `config` importing them back would be a package cycle.
A new dialect adds its model here and a field to `DialectSettings`; the tests enumerate both.

The flat names of earlier releases (`datarhei_failure_delay`, `GATEPASS_XPAY_TOKEN_TTL`) were
`<dialect>_<field>` for every field; `LEGACY_NAMES` derives them from the models, and
`gatepass.config` accepts them as deprecated aliases of the fields here.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatepass.durations import Duration


class DialectBlock(BaseModel):
    """What every dialect has: an optional delay before a failed login's answer (an asyncio
    sleep, never a blocked worker; throttling is what stops guessing, so it defaults to 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    failure_delay: Duration = Field(default=0, description="delay before a failed login's answer")

    @model_validator(mode="after")
    def _lifetimes_are_positive(self) -> Self:
        # One line per field; `gatepass.config` names each with the name the operator wrote.
        bad = [name for name, value in self if name.endswith("_ttl") and value <= 0]
        if bad:
            raise ValueError("\n".join(f"{name} must be positive" for name in bad))
        return self


class OsaisSettings(DialectBlock):
    """osais (`http/dialects/osais.py`): one long-lived token per client login."""

    token_ttl: Duration = Field(
        default=72 * 3600, description="`authToken` lifetime (shown as `duration`)"
    )


class CloudioSettings(DialectBlock):
    """cloudio (`http/dialects/cloudio.py`): a csrf-bound session with one jwt."""

    jwt_ttl: Duration = Field(default=12 * 3600, description="jwt and session lifetime")


class UnduitSettings(DialectBlock):
    """unduit (`http/dialects/unduit.py`): rotating refresh tokens."""

    token_ttl: Duration = Field(default=4 * 3600, description="access token lifetime")
    refresh_ttl: Duration = Field(
        default=14 * 86400, description="refresh token and session lifetime"
    )


class DatarheiSettings(DialectBlock):
    """datarhei (`http/dialects/datarhei.py`): Core's access/refresh pair (Core itself waits
    5 s after a failed login; `failure_delay` restores that for fidelity)."""

    access_ttl: Duration = Field(default=600, description="access token lifetime")
    refresh_ttl: Duration = Field(default=86400, description="refresh token and session lifetime")


class XpaySettings(DialectBlock):
    """xpay (`http/dialects/xpay.py`): a session ("ticket") and one token."""

    token_ttl: Duration = Field(
        default=24 * 3600, description="access token and session (`ticket`) lifetime"
    )


class DialectSettings(BaseModel):
    """Every dialect's block, whether or not the dialect is switched on (`dialects`): sessions
    made while a dialect was on stay verifiable after it is switched off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    osais: OsaisSettings = OsaisSettings()
    cloudio: CloudioSettings = CloudioSettings()
    unduit: UnduitSettings = UnduitSettings()
    datarhei: DatarheiSettings = DatarheiSettings()
    xpay: XpaySettings = XpaySettings()

    def block(self, dialect: str) -> DialectBlock:
        """The block of the dialect named `dialect` (one of `DIALECT_NAMES`)."""
        if dialect not in DIALECT_BLOCKS:
            raise KeyError(dialect)
        block: DialectBlock = getattr(self, dialect)
        return block


DIALECT_BLOCKS: dict[str, type[DialectBlock]] = {
    name: field.annotation
    for name, field in DialectSettings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, DialectBlock)
}
DIALECT_NAMES = tuple(DIALECT_BLOCKS)

# `<dialect>_<field>` (the flat names of earlier releases) -> (dialect, field).
LEGACY_NAMES: dict[str, tuple[str, str]] = {
    f"{dialect}_{field}": (dialect, field)
    for dialect, model in DIALECT_BLOCKS.items()
    for field in model.model_fields
}
