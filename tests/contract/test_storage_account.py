"""The self-service account ports (issue 18) over memory, SQLite and PostgreSQL: a secret is
spent once (also under a race), only while unexpired and for its own purpose; passkeys are
unique by credential, owned, counted conditionally, and go with their user."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gatepass.core.account.records import AccountToken, LinkPurpose, Passkey
from gatepass.core.errors import Conflict
from tests.contract.test_storage import user

RESET = LinkPurpose.PASSWORD_RESET


def token(digest: str, user_id: str, **changes: Any) -> AccountToken:
    values: dict[str, Any] = {
        "digest": digest,
        "purpose": RESET,
        "user_id": user_id,
        "email": "a@example.test",
        "data": None,
        "created_at": 100.0,
        "expires_at": 200.0,
        **changes,
    }
    return AccountToken(**values)


def passkey(key_id: str, user_id: str, credential: str, **changes: Any) -> Passkey:
    values: dict[str, Any] = {
        "id": key_id,
        "user_id": user_id,
        "credential_id": credential,
        "public_key": b"\xa5\x01\x02",
        "sign_count": 0,
        "transports": ("internal",),
        "aaguid": "00000000-0000-0000-0000-000000000000",
        "name": "Laptop",
        "backed_up": False,
        "created_at": 100.0,
        **changes,
    }
    return Passkey(**values)


async def test_a_secret_is_spent_once_while_unexpired(storage: Any) -> None:
    alice = user("alice")
    await storage.add_user(alice)
    await storage.add_account_token(token("d1", alice.id))
    assert await storage.find_account_token("d1", LinkPurpose.INVITATION, 150) is None
    assert (await storage.find_account_token("d1", RESET, 150)).user_id == alice.id
    assert await storage.find_account_token("d1", RESET, 200) is None  # expired at 200
    assert await storage.spend_account_token("d1", LinkPurpose.INVITATION, 150) is None
    spent = await storage.spend_account_token("d1", RESET, 150)
    assert (spent.digest, spent.used_at) == ("d1", 150)
    assert await storage.spend_account_token("d1", RESET, 151) is None
    with pytest.raises(Conflict):
        await storage.add_account_token(token("d1", alice.id))


async def test_of_racing_spenders_one_wins(storage: Any) -> None:
    alice = user("alice")
    await storage.add_user(alice)
    await storage.add_account_token(token("race", alice.id))
    results = await asyncio.gather(
        *(storage.spend_account_token("race", RESET, 150) for _ in range(8))
    )
    assert sum(result is not None for result in results) == 1


async def test_spending_a_users_tokens_and_purging(storage: Any) -> None:
    alice, bob = user("alice"), user("bob", email="bob@example.test")
    await storage.add_user(alice)
    await storage.add_user(bob)
    await storage.add_account_token(token("a1", alice.id))
    await storage.add_account_token(token("a2", alice.id))
    await storage.add_account_token(token("b1", bob.id))
    assert await storage.spend_account_tokens_of(alice.id, RESET, 150) == 2
    assert await storage.find_account_token("b1", RESET, 150) is not None
    assert await storage.purge_account_tokens(200, batch=2) == 2
    assert await storage.purge_account_tokens(200) == 1


async def test_passkeys(storage: Any) -> None:
    alice, bob = user("alice"), user("bob", email="bob@example.test")
    await storage.add_user(alice)
    await storage.add_user(bob)
    await storage.add_passkey(passkey("p1", alice.id, "cred-1"))
    with pytest.raises(Conflict):
        await storage.add_passkey(passkey("p2", bob.id, "cred-1"))
    found = await storage.get_passkey("cred-1")
    assert (found.user_id, found.public_key, found.transports) == (
        alice.id,
        b"\xa5\x01\x02",
        ("internal",),
    )
    assert await storage.record_passkey_use("p1", seen_count=0, new_count=5, now=150) is True
    assert await storage.record_passkey_use("p1", seen_count=0, new_count=6, now=151) is False
    assert (await storage.get_passkey("cred-1")).sign_count == 5
    assert await storage.rename_passkey(bob.id, "p1", "Mine") is False
    assert await storage.rename_passkey(alice.id, "p1", "Work") is True
    assert [p.name for p in await storage.list_passkeys(alice.id)] == ["Work"]
    assert await storage.delete_passkey(bob.id, "p1") is False
    await storage.add_passkey(passkey("p3", bob.id, "cred-3"))
    assert await storage.delete_user(bob.id) is True
    assert await storage.get_passkey("cred-3") is None
    assert await storage.delete_passkeys_of(alice.id) == 1
    assert await storage.list_passkeys(alice.id) == []
