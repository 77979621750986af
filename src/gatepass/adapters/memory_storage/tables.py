"""The rows of the memory storage, and the two rules of the SQL schema it must keep: unique
keys and foreign keys, raised as the same `Conflict`s the SQL stores raise (`sql/engine.py`).

Atomicity: asyncio runs one coroutine at a time, so a method that reads and writes without an
`await` in between is one transaction — what the SQL stores get from a conditional UPDATE or
`write_transaction`. No method of the memory storage awaits while it holds a half-made change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatepass.core.account.records import AccountToken, Passkey
from gatepass.core.errors import Conflict
from gatepass.core.mfa.models import MfaChallenge, OrgMfaPolicy, TotpFactor
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    Client,
    Org,
    Resource,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.oidc.models import AuthorizationCode, Consent, SigninSession

ALREADY_EXISTS = "already exists"
NO_SUCH_ROW = "refers to something that does not exist"


@dataclass
class Tables:
    """One dict per SQL table, keyed by its primary key."""

    meta: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, Org] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    signing_keys: dict[str, SigningKeyRecord] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)  # in id order
    issuers: dict[str, tuple[Any, float]] = field(default_factory=dict)  # name -> (issuer, at)
    identities: dict[tuple[str, str], str] = field(default_factory=dict)  # -> user id
    resources: dict[str, Resource] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    signins: dict[str, SigninSession] = field(default_factory=dict)
    consents: dict[tuple[str, str], Consent] = field(default_factory=dict)
    totp: dict[str, TotpFactor] = field(default_factory=dict)
    recovery: dict[tuple[str, str], float | None] = field(default_factory=dict)  # -> used_at
    challenges: dict[str, MfaChallenge] = field(default_factory=dict)
    mfa_policies: dict[str, OrgMfaPolicy] = field(default_factory=dict)
    account_tokens: dict[str, AccountToken] = field(default_factory=dict)  # by digest
    passkeys: dict[str, Passkey] = field(default_factory=dict)  # by id


def unique(taken: bool) -> None:
    if taken:
        raise Conflict(ALREADY_EXISTS)


def refers(exists: bool) -> None:
    if not exists:
        raise Conflict(NO_SUCH_ROW)


def casefold_key(text: str | None) -> str | None:
    """The SQL stores' `username_key` / `email_key`."""
    return text.strip().casefold() if text else None
