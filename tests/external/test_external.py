"""External identities against a real (test) OpenID provider over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from gatepass.core import errors
from gatepass.core.models import RequestContext
from gatepass.core.ports import AuditQuery
from tests.external.conftest import AUDIENCE
from tests.idp import TestIdentityProvider

INVALID_TOKEN = {"code": 403, "message": "Forbidden", "details": ["invalid token"]}
CTX = RequestContext(surface="test", ip="198.51.100.30")


async def datarhei_login(client, token: str, **params: str):
    return await client.post(
        "/api/login", headers={"Authorization": f"Bearer {token}"}, params=params
    )


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# ---------------------------------------------------------------- the happy path


async def test_valid_exchange_gives_an_ordinary_session(client, idp, runtime):
    response = await datarhei_login(client, idp.token("auth0|alice"))
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token"}
    access = claims(tokens["access_token"])
    assert (access["sub"], access["iss"]) == ("alice", "http://testserver")
    verified = await runtime.auth.verify_access(tokens["access_token"])
    session = await runtime.storage.get_session(verified.session_id)
    assert (session.auth_method.value, session.external_issuer, session.external_subject) == (
        "external",
        idp.issuer,
        "auth0|alice",
    )
    refreshed = await client.get(
        "/api/login/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert refreshed.status_code == 200
    events = await runtime.storage.audit.query(AuditQuery(event="login"))
    assert events[0].outcome == "success"
    assert events[0].details["issuer"] == idp.issuer
    assert events[0].details["external_subject"] == "auth0|alice"
    assert events[0].details["method"] == "external"


async def test_discovery_finds_the_jwks(client, idp):
    assert (await datarhei_login(client, idp.token())).status_code == 200
    assert idp.requests == ["/.well-known/openid-configuration", "/jwks"]


async def test_tenant_is_chosen_by_domain_or_name(client, idp):
    for tenant in (f"127.0.0.1:{idp.port}", "test-idp"):
        assert (await datarhei_login(client, idp.token(), domain=tenant)).status_code == 200
    unknown = await datarhei_login(client, idp.token(), domain="other.eu.auth0.com")
    assert (unknown.status_code, unknown.json()) == (403, INVALID_TOKEN)


async def test_datarhei_lists_the_tenant(client, idp):
    about = (await client.get("/api")).json()
    assert about["auths"] == [
        "localjwt",
        f"auth0 domain=127.0.0.1:{idp.port} audience={AUDIENCE} clientid=spa-client",
    ]


# ---------------------------------------------------------------- refused tokens


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "https://another-api.example.com"}, "another audience"),
        ({"iss": "https://evil.example.com/"}, "issuer is not trusted"),
        ({"now": int(time.time()) - 4000}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
    ],
)
async def test_bad_claims_are_refused(client, idp, runtime, change, reason):
    token = idp.token("auth0|alice", **change)
    response = await datarhei_login(client, token)
    assert (response.status_code, response.json()) == (403, INVALID_TOKEN)
    with pytest.raises(errors.ExternalTokenRejected, match=reason):
        await runtime.auth.login_external(token, tenant=None, scope=None, profile="native", ctx=CTX)


async def test_leeway_tolerates_small_skew(client, idp):
    token = idp.token("auth0|alice", now=int(time.time()) - 300 - 30)  # expired 30 s ago
    assert (await datarhei_login(client, token)).status_code == 200  # within the 60 s leeway


async def test_alg_none_is_refused(client, idp):
    header = {"alg": "none", "kid": idp.current_kid}
    body = claims(idp.token())
    forged = f"{_b64(header)}.{_b64(body)}."
    response = await datarhei_login(client, forged)
    assert (response.status_code, response.json()) == (403, INVALID_TOKEN)


async def test_hmac_signed_with_the_providers_public_key_is_refused(client, idp, runtime):
    header = {"alg": "HS256", "kid": idp.current_kid, "typ": "JWT"}
    signing_input = f"{_b64(header)}.{_b64(claims(idp.token()))}"
    signature = hmac.new(idp.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert (await datarhei_login(client, forged)).json() == INVALID_TOKEN
    with pytest.raises(errors.ExternalTokenRejected, match="algorithm is not allowed"):
        await runtime.auth.verify_external(forged, None, CTX)


async def test_a_key_the_provider_does_not_publish_is_refused(client, idp, runtime):
    from cryptography.hazmat.primitives.asymmetric import rsa

    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    same_kid = idp.token(key=impostor)
    response = await datarhei_login(client, same_kid)
    assert (response.status_code, response.json()) == (403, INVALID_TOKEN)
    with pytest.raises(errors.ExternalTokenRejected, match="signature is invalid"):
        await runtime.auth.verify_external(same_kid, None, CTX)


async def test_untrusted_provider_is_refused(client):
    other = TestIdentityProvider(AUDIENCE)
    try:
        response = await datarhei_login(client, other.token("auth0|alice"))
        assert (response.status_code, response.json()) == (403, INVALID_TOKEN)
        assert other.requests == []  # never even contacted
    finally:
        other.stop()


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "e30.e30.", "x" * 20000])
async def test_junk_is_refused(client, junk):
    response = await datarhei_login(client, junk)
    assert response.status_code == 403


# ---------------------------------------------------------------- key rotation and hammering


async def test_rotated_key_is_fetched_once(client, idp, clock):
    assert (await datarhei_login(client, idp.token())).status_code == 200
    assert idp.jwks_fetches() == 1
    idp.rotate()
    clock.advance(11)  # past the minimum interval between refreshes
    assert (await datarhei_login(client, idp.token())).status_code == 200
    assert idp.jwks_fetches() == 2
    assert (await datarhei_login(client, idp.token())).status_code == 200
    assert idp.jwks_fetches() == 2


async def test_junk_kids_cannot_hammer_the_provider(client, idp, clock, runtime):
    assert (await datarhei_login(client, idp.token())).status_code == 200
    for index in range(50):
        response = await datarhei_login(
            client, idp.token(kid=f"junk-{index}", key=idp.keys[idp.current_kid])
        )
        # refused; after 10 failures this address is also throttled before any verification
        assert response.status_code in (403, 429)
    assert idp.jwks_fetches() == 1  # within the interval, unknown kids cause no refetch
    for index in range(50):  # from many addresses: still no refetch within the interval
        with pytest.raises(errors.ExternalTokenRejected):
            await runtime.auth.verify_external(
                idp.token(kid=f"spread-{index}", key=idp.keys[idp.current_kid]),
                None,
                RequestContext(ip=f"192.0.2.{index}"),
            )
    assert idp.jwks_fetches() == 1
    clock.advance(11)
    with pytest.raises(errors.ExternalTokenRejected):
        await runtime.auth.verify_external(
            idp.token(kid="junk-after", key=idp.keys[idp.current_kid]), None, CTX
        )
    assert idp.jwks_fetches() == 2


async def test_jwks_is_cached_then_refreshed_after_its_ttl(client, idp, clock):
    assert (await datarhei_login(client, idp.token())).status_code == 200
    clock.advance(300)
    assert (await datarhei_login(client, idp.token(now=int(clock.now())))).status_code == 200
    assert idp.jwks_fetches() == 1
    clock.advance(301)
    assert (await datarhei_login(client, idp.token(now=int(clock.now())))).status_code == 200
    assert idp.jwks_fetches() == 2


# ---------------------------------------------------------------- mapping identities


async def test_unmapped_subject_is_refused(client, idp, runtime):
    response = await datarhei_login(client, idp.token("auth0|stranger"))
    assert (response.status_code, response.json()) == (403, INVALID_TOKEN)
    failure = (await runtime.storage.audit.query(AuditQuery(event="login")))[0]
    assert failure.outcome == "failure"
    assert failure.details["external_subject"] == "auth0|stranger"
    assert failure.details["description"] == "no gatepass user is linked to this identity"
    assert await runtime.storage.find_user("stranger") is None


async def test_disabled_user_is_refused(client, idp, runtime):
    await runtime.admin.set_user_disabled("alice", True, actor="test")
    response = await datarhei_login(client, idp.token("auth0|alice"))
    assert (response.status_code, response.json()) == (403, INVALID_TOKEN)


@pytest.mark.parametrize(
    "issuer_options", [{"auto_provision": True, "provision_org": None, "provision_roles": ()}]
)
async def test_auto_provisioning(client, idp, runtime, issuer_options):
    token = idp.token(
        "auth0|newcomer",
        email="new@example.com",
        email_verified=True,
        nickname="newcomer",
        name="New Comer",
    )
    response = await datarhei_login(client, token)
    assert response.status_code == 200
    user = await runtime.storage.find_user("newcomer")
    assert user is not None
    assert (user.email, user.display_name, user.password_hash) == (
        "new@example.com",
        "New Comer",
        None,
    )
    assert await runtime.storage.find_linked_user(idp.issuer, "auth0|newcomer") == user.id
    again = await datarhei_login(client, idp.token("auth0|newcomer", nickname="newcomer"))
    assert again.status_code == 200
    assert len(await runtime.storage.list_users(search="newcomer")) == 1
    provisioned = await runtime.storage.audit.query(AuditQuery(event="external.provision"))
    assert [e.target for e in provisioned] == ["newcomer"]


async def test_auto_provisioning_into_an_org_with_roles(settings, clock, idp):
    from gatepass.app.container import open_container
    from tests.external.conftest import issuer_config

    base = settings.with_overrides(issuers=[])
    runtime = await open_container(base, clock=clock, initialize=True)
    try:
        await runtime.admin.add_org("partners", "Partners", actor="test")
        await runtime.admin.put_role("viewer", ["reports:read"], actor="test")
        from gatepass.app.container import trusted_issuer

        config = issuer_config(
            idp,
            name="partners-idp",
            auto_provision=True,
            provision_org="partners",
            provision_roles=["viewer"],
        )
        await runtime.admin.add_issuer(trusted_issuer(config), actor="test")
        issued = await runtime.auth.login_external(
            idp.token("auth0|p1", preferred_username="Pat Partner"),
            tenant=None,
            scope=None,
            profile="native",
            ctx=CTX,
        )
        user = await runtime.storage.get_user(issued.principal.id)
        assert user is not None
        assert (user.username, user.org_uid, user.roles) == ("Pat-Partner", "partners", ("viewer",))
        assert issued.scope == "reports:read"
    finally:
        await runtime.close()


@pytest.mark.parametrize("issuer_options", [{"match": "email"}])
async def test_match_by_verified_email(client, idp, runtime, issuer_options):
    await runtime.admin.add_user("bob", password=None, email="bob@example.com", actor="test")
    unverified = idp.token("auth0|bob", email="bob@example.com", email_verified=False)
    assert (await datarhei_login(client, unverified)).status_code == 403
    verified = idp.token("auth0|bob", email="BOB@example.com", email_verified=True)
    response = await datarhei_login(client, verified)
    assert response.status_code == 200
    assert claims(response.json()["access_token"])["sub"] == "bob"
    bob = await runtime.storage.find_user("bob")
    assert bob is not None
    assert await runtime.storage.find_linked_user(idp.issuer, "auth0|bob") == bob.id


@pytest.mark.parametrize("issuer_options", [{"allowed_subjects": ["auth0|alice"]}])
async def test_allow_list(client, idp, runtime, issuer_options):
    await runtime.admin.add_user("carol", password=None, actor="test")
    await runtime.admin.link_identity("carol", "test-idp", "auth0|carol", actor="test")
    assert (await datarhei_login(client, idp.token("auth0|alice"))).status_code == 200
    refused = await datarhei_login(client, idp.token("auth0|carol"))
    assert (refused.status_code, refused.json()) == (403, INVALID_TOKEN)


# ---------------------------------------------------------------- the provider being down


async def test_provider_down_is_a_quick_503(client, idp):
    idp.stop()
    started = time.monotonic()
    response = await datarhei_login(client, idp.token())
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {
        "code": 503,
        "message": "Service Unavailable",
        "details": ["service temporarily unavailable"],
    }
    assert response.headers["retry-after"] == "1"


async def test_hanging_provider_times_out(client, idp, runtime):
    with idp.hanging(5):
        started = time.monotonic()
        response = await datarhei_login(client, idp.token())
        elapsed = time.monotonic() - started
        with pytest.raises(errors.UpstreamUnavailable):
            await runtime.auth.verify_external(idp.token(), None, CTX)
    assert response.status_code == 503
    assert elapsed < 2.5  # the 1 s timeout of these tests, not the provider's 5 s


async def test_cached_keys_survive_an_outage(client, idp):
    assert (await datarhei_login(client, idp.token())).status_code == 200
    idp.stop()
    assert (await datarhei_login(client, idp.token())).status_code == 200


async def test_discovery_naming_another_issuer_is_refused(settings, clock, idp):
    from gatepass.app.container import open_container
    from tests.external.conftest import issuer_config

    # Configured as "localhost", the provider's discovery document says "127.0.0.1".
    lying = settings.with_overrides(
        issuers=[issuer_config(idp, issuer=idp.issuer.replace("127.0.0.1", "localhost"))]
    )
    runtime = await open_container(lying, clock=clock, initialize=True)
    try:
        token = idp.token(iss=idp.issuer.replace("127.0.0.1", "localhost"))
        with pytest.raises(errors.UpstreamUnavailable, match="discovery document is invalid"):
            await runtime.auth.verify_external(token, None, CTX)
    finally:
        await runtime.close()
