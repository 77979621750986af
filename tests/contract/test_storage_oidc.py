"""Storage contract for browser sign-in (issue 17, migration 0007): OIDC client fields,
authorization codes, sign-in sessions and consents, on every backend."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import replace
from typing import Any

import pytest

from gatepass.core.oidc.models import AuthorizationCode, CodeRedemption, Consent, SigninSession
from tests.contract.test_storage import NOW, client, user


def code(**changes: Any) -> AuthorizationCode:
    base = AuthorizationCode(
        code_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        client_id="c" * 40,
        user_id="u1",
        redirect_uri="https://app.example/callback?x=1",
        scopes=frozenset({"openid", "email"}),
        resources=("https://notes.example.com",),
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
        nonce="n-0S6_WzA2Mj",
        signin_session_id="s1",
        auth_time=NOW - 5,
        amr=("pwd",),
        acr="0",
        created_at=NOW,
        expires_at=NOW + 60,
    )
    return replace(base, **changes)


def signin(**changes: Any) -> SigninSession:
    base = SigninSession(
        id=str(uuid.uuid4()),
        user_id="u1",
        secret_digest="f" * 64,
        auth_time=NOW,
        amr=("pwd", "otp"),
        acr=None,
        created_at=NOW,
        expires_at=NOW + 3600,
    )
    return replace(base, **changes)


async def test_oidc_client_fields_round_trip(storage):
    registered = client(
        "o" * 40,
        grant_types=frozenset({"authorization_code", "refresh_token"}),
        redirect_uris=("https://app.example/cb", "http://127.0.0.1/callback"),
        post_logout_redirect_uris=("https://app.example/bye",),
        web_origins=("https://app.example",),
        public=True,
        first_party=True,
        id_token_signed_response_alg="ES256",
        secret_digest="",
    )
    await storage.add_client(registered)
    assert await storage.get_client(registered.client_id) == registered
    changed = registered.evolve(redirect_uris=("https://other.example/cb",), public=False)
    await storage.update_client(changed)
    assert await storage.get_client(registered.client_id) == changed


async def test_a_client_without_oidc_fields_gets_the_defaults(storage):
    plain = client("p" * 40)
    await storage.add_client(plain)
    found = await storage.get_client(plain.client_id)
    assert found is not None
    assert (found.redirect_uris, found.public, found.first_party) == ((), False, False)
    assert found.id_token_signed_response_alg == "RS256"


async def test_codes_round_trip(storage):
    issued = code()
    await storage.add_authorization_code(issued)
    assert await storage.get_authorization_code(issued.code_hash) == issued
    assert await storage.get_authorization_code("0" * 64) is None


async def test_a_code_is_consumed_once(storage):
    issued = code(nonce=None, code_challenge=None, code_challenge_method=None, acr=None)
    await storage.add_authorization_code(issued)
    used = await storage.consume_authorization_code(issued.code_hash, "sess-1", NOW + 1)
    assert used == replace(issued, consumed_at=NOW + 1, session_id="sess-1")
    assert await storage.consume_authorization_code(issued.code_hash, "sess-2", NOW + 2) is None
    # The record still names the session of the first use, so a reuse can revoke it.
    assert await storage.get_authorization_code(issued.code_hash) == used
    assert await storage.consume_authorization_code("0" * 64, "sess-3", NOW) is None


CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def proof(**changes: Any) -> CodeRedemption:
    base = CodeRedemption(
        client_id="c" * 40,
        redirect_uri="https://app.example/callback?x=1",
        code_challenge=CHALLENGE,
        now=NOW + 1,
    )
    return replace(base, **changes)


async def test_a_redemption_consumes_only_a_code_it_proves_and_leaves_it_unused_otherwise(storage):
    session = signin()
    await storage.add_signin_session(session)
    issued = code(signin_session_id=session.id)
    await storage.add_authorization_code(issued)
    for wrong in (
        proof(client_id="d" * 40),
        proof(redirect_uri="https://app.example/callback"),
        proof(code_challenge="x" * 43),
        proof(code_challenge=None),  # no verifier for a code that has a challenge
        proof(now=NOW + 60),  # expired: valid strictly before expires_at
    ):
        assert (
            await storage.consume_authorization_code(
                issued.code_hash, "sess-x", NOW + 1, expect=wrong
            )
            is None
        ), wrong
    assert await storage.get_authorization_code(issued.code_hash) == issued  # still unused
    used = await storage.consume_authorization_code(
        issued.code_hash, "sess-1", NOW + 1, expect=proof()
    )
    assert used == replace(issued, consumed_at=NOW + 1, session_id="sess-1")
    again = await storage.consume_authorization_code(
        issued.code_hash, "sess-2", NOW + 2, expect=proof(now=NOW + 2)
    )
    assert again is None
    assert await storage.get_authorization_code(issued.code_hash) == used


async def test_a_code_without_a_challenge_is_redeemed_without_a_verifier_only(storage):
    session = signin()
    await storage.add_signin_session(session)
    issued = code(signin_session_id=session.id, code_challenge=None, code_challenge_method=None)
    await storage.add_authorization_code(issued)
    refused = await storage.consume_authorization_code(
        issued.code_hash, "s", NOW + 1, expect=proof()
    )
    assert refused is None
    used = await storage.consume_authorization_code(
        issued.code_hash, "s", NOW + 1, expect=proof(code_challenge=None)
    )
    assert used == replace(issued, consumed_at=NOW + 1, session_id="s")


@pytest.mark.parametrize("ended", [True, False], ids=["signed-out", "purged"])
async def test_a_code_of_a_sign_in_that_ended_or_is_gone_is_not_consumed(storage, ended):
    session = signin()
    if ended:
        await storage.add_signin_session(session)
        assert await storage.end_signin_session(session.id, NOW) is True
    issued = code(signin_session_id=session.id)
    await storage.add_authorization_code(issued)
    refused = await storage.consume_authorization_code(
        issued.code_hash, "s", NOW + 1, expect=proof()
    )
    assert refused is None
    assert await storage.get_authorization_code(issued.code_hash) == issued


async def test_concurrent_checked_redemptions_have_one_winner(storage):
    session = signin()
    await storage.add_signin_session(session)
    issued = code(signin_session_id=session.id)
    await storage.add_authorization_code(issued)
    results = await asyncio.gather(
        *(
            storage.consume_authorization_code(issued.code_hash, f"s{i}", NOW + 1, expect=proof())
            for i in range(4)
        )
    )
    assert len([result for result in results if result is not None]) == 1


async def test_concurrent_redemptions_have_one_winner(storage):
    issued = code()
    await storage.add_authorization_code(issued)
    results = await asyncio.gather(
        *(storage.consume_authorization_code(issued.code_hash, f"s{i}", NOW) for i in range(4))
    )
    winners = [result for result in results if result is not None]
    assert len(winners) == 1


async def test_signin_sessions(storage):
    first = signin()
    await storage.add_signin_session(first)
    assert await storage.get_signin_session(first.id) == first
    assert await storage.get_signin_session("nope") is None
    assert await storage.end_signin_session(first.id, NOW + 10) is True
    assert await storage.end_signin_session(first.id, NOW + 11) is False
    ended = await storage.get_signin_session(first.id)
    assert ended == replace(first, ended_at=NOW + 10)
    assert not ended.active_at(NOW + 12)
    assert await storage.end_signin_session("nope", NOW) is False


async def test_a_users_signin_sessions_are_listed_and_ended_together(storage):
    older = signin(created_at=NOW - 20, auth_time=NOW - 20)
    newer = signin(created_at=NOW - 10, auth_time=NOW - 10)
    kept = signin(created_at=NOW - 5)
    expired = signin(created_at=NOW - 7200, expires_at=NOW - 1)
    logged_out = signin(created_at=NOW - 30)
    someone_else = signin(user_id="u2")
    for item in (older, newer, kept, expired, logged_out, someone_else):
        await storage.add_signin_session(item)
    assert await storage.end_signin_session(logged_out.id, NOW - 1) is True
    assert await storage.list_signin_sessions("u1", NOW) == [kept, newer, older]
    assert await storage.list_signin_sessions("u9", NOW) == []

    ended = await storage.end_signin_sessions_of("u1", NOW, keep=kept.id)
    assert sorted(ended) == sorted([older.id, newer.id])
    assert await storage.list_signin_sessions("u1", NOW + 1) == [kept]
    assert await storage.get_signin_session(older.id) == replace(older, ended_at=NOW)
    # The expired and the logged-out ones are left as they were; another user's is untouched.
    assert await storage.get_signin_session(expired.id) == expired
    assert (await storage.get_signin_session(logged_out.id)).ended_at == NOW - 1
    assert await storage.list_signin_sessions("u2", NOW) == [someone_else]

    assert await storage.end_signin_sessions_of("u1", NOW + 2) == [kept.id]
    assert await storage.list_signin_sessions("u1", NOW + 3) == []
    assert await storage.end_signin_sessions_of("u1", NOW + 4) == []


async def test_consents_are_remembered_until_revoked(storage):
    allowed = Consent("u1", "c" * 40, frozenset({"openid", "email"}), NOW)
    other = Consent("u2", "c" * 40, frozenset({"openid"}), NOW + 1)
    elsewhere = Consent("u1", "d" * 40, frozenset({"openid"}), NOW + 2)
    for item in (allowed, other, elsewhere):
        await storage.put_consent(item)
    assert await storage.get_consent("u1", "c" * 40) == allowed
    assert await storage.get_consent("u9", "c" * 40) is None
    assert await storage.list_consents() == [allowed, other, elsewhere]
    assert await storage.list_consents(user_id="u1") == [allowed, elsewhere]
    assert await storage.list_consents(client_id="c" * 40) == [allowed, other]
    assert await storage.list_consents(user_id="u1", client_id="d" * 40) == [elsewhere]
    assert await storage.revoke_consent("u1", "c" * 40, NOW + 5) is True
    assert await storage.revoke_consent("u1", "c" * 40, NOW + 6) is False
    assert await storage.get_consent("u1", "c" * 40) == replace(allowed, revoked_at=NOW + 5)
    assert await storage.list_consents(user_id="u1") == [elsewhere]
    # Allowing again replaces the revoked record.
    again = Consent("u1", "c" * 40, frozenset({"openid", "profile"}), NOW + 7)
    await storage.put_consent(again)
    assert await storage.get_consent("u1", "c" * 40) == again


async def test_deleting_a_user_or_client_drops_their_consents_and_sign_ins(storage):
    alice = user("alice")
    await storage.add_user(alice)
    await storage.add_client(client("c" * 40))
    await storage.put_consent(Consent(alice.id, "c" * 40, frozenset({"openid"}), NOW))
    await storage.put_consent(Consent("u2", "c" * 40, frozenset({"openid"}), NOW))
    signed_in = signin(user_id=alice.id)
    await storage.add_signin_session(signed_in)
    issued = code()
    await storage.add_authorization_code(issued)
    assert await storage.delete_user(alice.id) is True
    assert await storage.get_signin_session(signed_in.id) is None
    assert await storage.list_consents() == [Consent("u2", "c" * 40, frozenset({"openid"}), NOW)]
    assert await storage.delete_client("c" * 40) is True
    assert await storage.list_consents() == []
    assert await storage.get_authorization_code(issued.code_hash) is None


async def test_purge_drops_expired_codes_and_sign_ins(storage):
    old_code, new_code = code(expires_at=NOW), code(expires_at=NOW + 60)
    old_signin, new_signin = signin(expires_at=NOW), signin(expires_at=NOW + 60)
    for item in (old_code, new_code):
        await storage.add_authorization_code(item)
    for session in (old_signin, new_signin):
        await storage.add_signin_session(session)
    assert await storage.purge_oidc(NOW) == 2
    assert await storage.get_authorization_code(old_code.code_hash) is None
    assert await storage.get_authorization_code(new_code.code_hash) == new_code
    assert await storage.get_signin_session(old_signin.id) is None
    assert await storage.get_signin_session(new_signin.id) == new_signin
    assert await storage.purge_oidc(NOW) == 0


async def test_purge_deletes_at_most_batch_rows_in_all(storage):
    for _ in range(3):
        await storage.add_authorization_code(code(expires_at=NOW - 1))
        await storage.add_signin_session(signin(expires_at=NOW - 1))
    assert [await storage.purge_oidc(NOW, 4) for _ in range(3)] == [4, 2, 0]


@pytest.mark.sql_rows
async def test_housekeeping_counts_sign_ins_with_sessions(storage):
    from gatepass.adapters.sql.denylist import SqlDenylist
    from gatepass.core.housekeeping import purge_expired

    await storage.add_authorization_code(code(expires_at=NOW - 1))
    await storage.add_signin_session(signin(expires_at=NOW - 1))
    report = await purge_expired(storage, SqlDenylist(storage.engine), NOW, batch=10, max_rows=10)
    assert report.as_dict()["sessions"] == 2
    assert report.complete
