"""Identifiers. Token ids are UUIDv7 (RFC 9562): unique, and carrying their issue time to the
millisecond, which lets "every token of this client issued before now" be revoked precisely."""

from __future__ import annotations

import secrets
import uuid


def uuid7(now: float) -> str:
    millis = int(now * 1000) & ((1 << 48) - 1)
    rand = secrets.randbits(74)
    value = (
        (millis << 80)
        | (0x7 << 76)
        | ((rand >> 62) << 64)
        | (0b10 << 62)
        | (rand & ((1 << 62) - 1))
    )
    text = f"{value:032x}"  # as str(uuid.UUID(int=value)), without its checks (hot path)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def uuid7_time(value: str) -> float | None:
    """The issue time (seconds) a UUIDv7 carries, or None for anything else."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
    if parsed.version != 7:
        return None
    return (parsed.int >> 80) / 1000.0
