"""The storage contract: every backend (SQLite, PostgreSQL) must pass the same tests."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import pytest

from gatepass.core.errors import Conflict
from gatepass.core.models import (
    ApiKey,
    AuditEvent,
    AuthMethod,
    Client,
    Org,
    PrincipalKind,
    Role,
    Session,
    SigningKeyRecord,
    User,
)
from gatepass.core.ports import AuditQuery, SessionQuery

NOW = 1_800_000_000.0


def user(name: str = "alice", **changes: Any) -> User:
    base = User(
        id=str(uuid.uuid4()),
        username=name,
        email=f"{name}@example.com",
        display_name=name.title(),
        org_uid=None,
        roles=("admin",),
        scopes=frozenset({"read", "write"}),
        disabled=False,
        password_hash="$argon2id$x",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def session(principal_id: str = "u1", **changes: Any) -> Session:
    base = Session(
        id=str(uuid.uuid4()),
        principal_kind=PrincipalKind.USER,
        principal_id=principal_id,
        subject="alice",
        org_uid=None,
        scopes=frozenset({"read"}),
        auth_method=AuthMethod.PASSWORD,
        profile="native",
        created_at=NOW,
        last_used_at=NOW,
        expires_at=NOW + 3600,
        client_ip="198.51.100.1",
        user_agent="pytest",
        refresh_jti="r1",
        access_jti="a1",
    )
    return replace(base, **changes)


async def test_meta(storage):
    assert await storage.get_meta("k") is None
    await storage.set_meta("k", "v1")
    await storage.set_meta("k", "v2")
    assert await storage.get_meta("k") == "v2"


async def test_orgs(storage):
    await storage.add_org(Org("acme", "Acme", NOW))
    await storage.add_org(Org("beta", "Beta", NOW))
    assert await storage.get_org("acme") == Org("acme", "Acme", NOW)
    assert [o.uid for o in await storage.list_orgs()] == ["acme", "beta"]
    with pytest.raises(Conflict):
        await storage.add_org(Org("acme", "Again", NOW))
    assert await storage.rename_org("beta", "Beta Ltd") is True
    assert await storage.get_org("beta") == Org("beta", "Beta Ltd", NOW)
    assert await storage.rename_org("gamma", "Gamma") is False
    assert await storage.delete_org("beta") is True
    assert await storage.delete_org("beta") is False
    assert await storage.get_org("beta") is None


async def test_roles_upsert(storage):
    await storage.put_role(Role("admin", frozenset({"a"}), "first"))
    await storage.put_role(Role("admin", frozenset({"a", "b"}), "second"))
    await storage.put_role(Role("viewer", frozenset({"read"})))
    assert await storage.get_roles(["admin"]) == [Role("admin", frozenset({"a", "b"}), "second")]
    assert [r.name for r in await storage.list_roles()] == ["admin", "viewer"]
    assert await storage.delete_role("viewer") is True
    assert await storage.get_roles(["viewer"]) == []


async def test_users_round_trip_and_lookup(storage):
    await storage.add_org(Org("acme", "Acme", NOW))
    alice = user("Alice", org_uid="acme")
    await storage.add_user(alice)
    assert await storage.get_user(alice.id) == alice
    assert await storage.find_user("alice") == alice
    assert await storage.find_user("ALICE@example.com") == alice
    assert await storage.find_user("") is None
    assert await storage.find_user("bob") is None
    with pytest.raises(Conflict):
        await storage.add_user(user("alice", email="other@example.com"))
    with pytest.raises(Conflict):
        await storage.add_user(user("other", email="alice@EXAMPLE.com"))


async def test_username_wins_over_someone_elses_email(storage):
    owner = user("carol", email="dave")  # odd, but an email may equal another's username
    dave = user("dave", email="dave@example.com")
    await storage.add_user(owner)
    await storage.add_user(dave)
    assert (await storage.find_user("dave")).id == dave.id


async def test_users_list_update_delete(storage):
    await storage.add_org(Org("acme", "Acme", NOW))
    alice, bob = user("alice", org_uid="acme"), user("bob")
    for item in (bob, alice):
        await storage.add_user(item)
    assert [u.username for u in await storage.list_users()] == ["alice", "bob"]
    assert [u.username for u in await storage.list_users(org_uid="acme")] == ["alice"]
    assert [u.username for u in await storage.list_users(search="BO")] == ["bob"]
    assert [u.username for u in await storage.list_users(search="%")] == []
    assert [u.username for u in await storage.list_users(limit=1, offset=1)] == ["bob"]
    changed = alice.evolve(disabled=True, scopes=frozenset({"x"}), roles=(), updated_at=NOW + 1)
    await storage.update_user(changed)
    assert await storage.get_user(alice.id) == changed
    await storage.set_password_hash(alice.id, "$argon2id$new", NOW + 2)
    stored = await storage.get_user(alice.id)
    assert (stored.password_hash, stored.updated_at) == ("$argon2id$new", NOW + 2)
    await storage.add_api_key(api_key(alice.id))
    assert await storage.delete_user(alice.id) is True
    assert await storage.get_user(alice.id) is None
    assert await storage.list_api_keys(alice.id) == []
    assert await storage.delete_user(alice.id) is False


async def test_user_in_unknown_org_is_refused(storage):
    with pytest.raises(Conflict, match="does not exist"):
        await storage.add_user(user("alice", org_uid="nope"))


def client(client_id: str = "c" * 40, **changes: Any) -> Client:
    base = Client(
        client_id=client_id,
        name="svc",
        org_uid=None,
        scopes=frozenset({"jobs"}),
        metadata={"domain": "https://x.example", "uriNotify": "https://x.example/n"},
        secret_digest="d" * 64,
        disabled=False,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


async def test_clients(storage):
    first, second = client("a" * 40), client("b" * 40, created_at=NOW + 1)
    await storage.add_client(first)
    await storage.add_client(second)
    assert await storage.get_client("a" * 40) == first
    assert [c.client_id for c in await storage.list_clients()] == ["a" * 40, "b" * 40]
    with pytest.raises(Conflict):
        await storage.add_client(client("a" * 40))
    updated = first.evolve(disabled=True, metadata={"domain": "y"}, secret_digest="e" * 64)
    await storage.update_client(updated)
    assert await storage.get_client("a" * 40) == updated
    assert await storage.delete_client("a" * 40) is True
    assert await storage.get_client("a" * 40) is None


def api_key(user_id: str, **changes: Any) -> ApiKey:
    base = ApiKey(
        id=uuid.uuid4().hex[:16],
        user_id=user_id,
        name="ci",
        scopes=frozenset({"read"}),
        digest=uuid.uuid4().hex * 2,
        display_prefix="gp_ak_abcd…",
        created_at=NOW,
        expires_at=NOW + 60,
    )
    return replace(base, **changes)


async def test_api_keys(storage):
    owner = user("alice")
    await storage.add_user(owner)
    key = api_key(owner.id)
    await storage.add_api_key(key)
    assert await storage.get_api_key(key.id) == key
    assert await storage.get_api_key_by_digest(key.digest) == key
    assert await storage.get_api_key_by_digest("0" * 64) is None
    await storage.touch_api_key(key.id, NOW + 5)
    assert (await storage.get_api_key(key.id)).last_used_at == NOW + 5
    assert await storage.revoke_api_key(key.id, NOW + 6) is True
    assert await storage.revoke_api_key(key.id, NOW + 7) is False
    assert (await storage.get_api_key(key.id)).revoked_at == NOW + 6
    assert [k.id for k in await storage.list_api_keys(owner.id)] == [key.id]
    with pytest.raises(Conflict):
        await storage.add_api_key(api_key(owner.id, digest=key.digest))


async def test_sessions_round_trip(storage):
    item = session(csrf_digest="c" * 64, external_issuer="https://idp", external_subject="x")
    await storage.create_session(item)
    assert await storage.get_session(item.id) == item
    assert await storage.get_session("missing") is None


async def test_rotation_is_conditional_and_keeps_the_previous_token(storage):
    item = session()
    await storage.create_session(item)
    won = await storage.rotate_session(
        item.id,
        expect_refresh_jti="r1",
        expect_access_jti=None,
        new_refresh_jti="r2",
        new_access_jti="a2",
        now=NOW + 1,
    )
    assert won is True
    again = await storage.rotate_session(
        item.id,
        expect_refresh_jti="r1",
        expect_access_jti=None,
        new_refresh_jti="r3",
        new_access_jti="a3",
        now=NOW + 2,
    )
    assert again is False
    stored = await storage.get_session(item.id)
    assert (
        stored.refresh_jti,
        stored.prev_refresh_jti,
        stored.access_jti,
        stored.rotated_at,
        stored.last_used_at,
    ) == ("r2", "r1", "a2", NOW + 1, NOW + 1)
    by_access = await storage.rotate_session(
        item.id,
        expect_refresh_jti=None,
        expect_access_jti="a2",
        new_refresh_jti="r4",
        new_access_jti="a4",
        now=NOW + 3,
    )
    assert by_access is True
    assert (await storage.get_session(item.id)).refresh_jti == "r4"


async def test_rotation_without_a_new_refresh_token(storage):
    item = session()
    await storage.create_session(item)
    assert await storage.rotate_session(
        item.id,
        expect_refresh_jti="r1",
        expect_access_jti=None,
        new_refresh_jti="r1",
        new_access_jti="a2",
        now=NOW + 1,
    )
    stored = await storage.get_session(item.id)
    assert (stored.refresh_jti, stored.prev_refresh_jti, stored.access_jti) == ("r1", None, "a2")


async def test_rotation_refuses_revoked_and_expired_sessions(storage):
    revoked, expired = session(), session(expires_at=NOW + 10)
    await storage.create_session(revoked)
    await storage.create_session(expired)
    await storage.revoke_session(revoked.id, "logout", NOW)
    for item, now in ((revoked, NOW + 1), (expired, NOW + 10)):
        assert not await storage.rotate_session(
            item.id,
            expect_refresh_jti="r1",
            expect_access_jti=None,
            new_refresh_jti="r2",
            new_access_jti="a2",
            now=now,
        )


async def test_concurrent_rotations_have_exactly_one_winner(storage):
    item = session()
    await storage.create_session(item)
    results = await asyncio.gather(
        *[
            storage.rotate_session(
                item.id,
                expect_refresh_jti="r1",
                expect_access_jti=None,
                new_refresh_jti=f"n{index}",
                new_access_jti=f"a{index}",
                now=NOW + 1,
            )
            for index in range(8)
        ]
    )
    assert results.count(True) == 1
    winner = results.index(True)
    assert (await storage.get_session(item.id)).refresh_jti == f"n{winner}"


async def test_revocation_of_sessions(storage):
    mine = [session("u1"), session("u1"), session("u1", expires_at=NOW - 1)]
    other = session("u2")
    for item in [*mine, other]:
        await storage.create_session(item)
    revoked = await storage.revoke_session(mine[0].id, "logout", NOW)
    assert revoked is not None
    assert revoked.id == mine[0].id
    assert revoked.revoked_at is None
    assert await storage.revoke_session(mine[0].id, "logout", NOW) is None
    stored = await storage.get_session(mine[0].id)
    assert (stored.revoked_at, stored.revoke_reason) == (NOW, "logout")
    swept = await storage.revoke_sessions_of(PrincipalKind.USER, "u1", "user_disabled", NOW)
    assert [s.id for s in swept] == [mine[1].id]
    assert (await storage.get_session(other.id)).revoked_at is None
    active = await storage.list_sessions(SessionQuery(active_at=NOW))
    assert [s.id for s in active] == [other.id]
    assert await storage.count_active_sessions(NOW) == 1
    everything = await storage.list_sessions(SessionQuery(principal_id="u1"))
    assert len(everything) == 3


async def test_signing_keys(storage):
    first = SigningKeyRecord(
        "k1", "ES256", {"kty": "EC", "kid": "k1"}, b"\x00sealed", NOW, "active"
    )
    second = SigningKeyRecord(
        "k2", "ES256", {"kty": "EC", "kid": "k2"}, b"\x01sealed", NOW + 1, "active"
    )
    await storage.add_signing_key(first)
    await storage.add_signing_key(second)
    await storage.retire_signing_keys("k2", NOW + 2, publish_until=NOW + 100)
    keys = {k.kid: k for k in await storage.list_signing_keys()}
    assert keys["k2"] == second
    assert (keys["k1"].status, keys["k1"].retired_at, keys["k1"].publish_until) == (
        "retired",
        NOW + 2,
        NOW + 100,
    )
    assert keys["k1"].private_encrypted == b"\x00sealed"


async def test_audit_query_filters_and_pages(storage):
    events = [
        AuditEvent(
            at=NOW + i,
            event=name,
            outcome="success",
            actor=actor,
            target="t",
            ip="198.51.100.1",
            surface="native",
            details={"i": i},
        )
        for i, (name, actor) in enumerate(
            [
                ("login", "alice"),
                ("login", "bob"),
                ("admin.user.create", "cli:root"),
                ("admin.user.delete", "cli:root"),
                ("token.refresh", "alice"),
            ]
        )
    ]
    for event in events:
        await storage.audit.record(event)
    everything = await storage.audit.query(AuditQuery())
    assert [e.details["i"] for e in everything] == [4, 3, 2, 1, 0]
    assert [e.details["i"] for e in await storage.audit.query(AuditQuery(user="alice"))] == [4, 0]
    admin = await storage.audit.query(AuditQuery(event="admin."))
    assert [e.event for e in admin] == ["admin.user.delete", "admin.user.create"]
    assert [e.details["i"] for e in await storage.audit.query(AuditQuery(since=NOW + 3))] == [4, 3]
    page1 = await storage.audit.query(AuditQuery(limit=2))
    page2 = await storage.audit.query(AuditQuery(limit=2, before_id=page1[-1].id))
    assert [e.details["i"] for e in page1 + page2] == [4, 3, 2, 1]
    assert everything[0].ip == "198.51.100.1"


async def test_trusted_issuers_and_identity_links(storage):
    from gatepass.core.external import TrustedIssuer

    issuer = TrustedIssuer(
        issuer="https://tenant.eu.auth0.com/",
        name="tenant",
        audiences=("https://api",),
        algorithms=("RS256", "ES256"),
        allowed_subjects=("auth0|1",),
        auto_provision=True,
        provision_roles=("viewer",),
        client_id="spa",
    )
    await storage.add_issuer(issuer, NOW)
    assert await storage.list_issuers() == [issuer]
    with pytest.raises(Conflict):
        await storage.add_issuer(issuer, NOW)
    alice = user("alice")
    await storage.add_user(alice)
    await storage.link_identity(issuer.issuer, "auth0|1", alice.id, NOW)
    await storage.link_identity(issuer.issuer, "auth0|1", alice.id, NOW)  # idempotent
    assert await storage.find_linked_user(issuer.issuer, "auth0|1") == alice.id
    bob = user("bob")
    await storage.add_user(bob)
    with pytest.raises(Conflict, match="linked to another user"):
        await storage.link_identity(issuer.issuer, "auth0|1", bob.id, NOW)
    assert await storage.list_identities(alice.id) == [(issuer.issuer, "auth0|1")]
    assert await storage.unlink_identity(issuer.issuer, "auth0|1") is True
    assert await storage.find_linked_user(issuer.issuer, "auth0|1") is None
    await storage.link_identity(issuer.issuer, "auth0|2", alice.id, NOW)
    assert await storage.delete_issuer("tenant") is True
    assert await storage.list_issuers() == []
    assert await storage.find_linked_user(issuer.issuer, "auth0|2") is None  # links went too
    assert await storage.delete_issuer("tenant") is False


async def test_deleting_a_user_removes_their_identity_links(storage):
    alice = user("alice")
    await storage.add_user(alice)
    await storage.link_identity("https://idp/", "s1", alice.id, NOW)
    await storage.delete_user(alice.id)
    assert await storage.find_linked_user("https://idp/", "s1") is None


def login_event(at: float, outcome: str, ip: str | None) -> AuditEvent:
    return AuditEvent(at=at, event="login", outcome=outcome, actor="x", ip=ip, surface="native")


async def test_audit_counts_per_bucket_and_outcome(storage):
    since = NOW - 180  # three one-minute buckets: [-180, -120), [-120, -60), [-60, 0]
    for event in [
        login_event(since - 1, "success", "198.51.100.1"),  # before the window: left out
        login_event(since, "success", "198.51.100.1"),  # first instant of bucket 0
        login_event(since + 59.999, "failure", "198.51.100.2"),
        login_event(since + 60, "success", "198.51.100.1"),  # first instant of bucket 1
        login_event(since + 60.5, "success", "198.51.100.1"),
        login_event(since + 179, "failure", None),
        AuditEvent(at=since + 10, event="token.refresh", outcome="success", ip="198.51.100.1"),
    ]:
        await storage.audit.record(event)
    counts = await storage.audit.count_by_bucket("login", since, 60)
    assert [(c.bucket_start - since, c.outcome, c.count) for c in counts] == [
        (0, "failure", 1),
        (0, "success", 1),
        (60, "success", 2),
        (120, "failure", 1),
    ]
    assert await storage.audit.count_by_bucket("login", NOW + 1, 60) == []


async def test_audit_top_addresses(storage):
    for index, ip in enumerate(
        ["198.51.100.9", "198.51.100.2", "198.51.100.2", "198.51.100.3", "198.51.100.3", None]
    ):
        await storage.audit.record(login_event(NOW + index, "failure", ip))
    await storage.audit.record(login_event(NOW - 10, "failure", "198.51.100.9"))  # too old
    await storage.audit.record(login_event(NOW, "success", "198.51.100.9"))  # not a failure
    top = await storage.audit.top_addresses("login", "failure", NOW, 2)
    assert top == [("198.51.100.2", 2), ("198.51.100.3", 2)]
    assert await storage.audit.top_addresses("login", "failure", NOW, 10) == [
        ("198.51.100.2", 2),
        ("198.51.100.3", 2),
        ("198.51.100.9", 1),
    ]
