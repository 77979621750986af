"""Each new second-factor event is counted in `gatepass_mfa_events_total{event, method}`."""

from __future__ import annotations

from gatepass.core.mfa import totp
from tests.mfa.helpers import enrol, mfa_token
from tests.ops.scripted import sample

EVENTS = [
    ("enrolled", "totp"),
    ("confirmed", "totp"),
    ("challenge", "-"),
    ("failed", "totp"),
    ("verified", "totp"),
    ("recovery_code_used", "-"),
    ("verified", "recovery_code"),
    ("reset", "-"),
    ("removed", "totp"),
]


async def counts(client) -> dict[tuple[str, str], float]:
    text = (await client.get("/metrics")).text
    return {
        (event, method): sample(text, "gatepass_mfa_events_total", event=event, method=method)
        or 0.0
        for event, method in EVENTS
    }


async def test_every_mfa_event_is_counted(client, make_user, runtime, clock):
    await make_user("alice")
    before = await counts(client)
    secret, codes = await enrol(client, clock, "alice")
    token = await mfa_token(client, "alice")
    await client.post(
        "/auth/login/mfa", json={"mfa_token": token, "method": "totp", "code": "000000"}
    )
    good = totp.code_at(secret, clock.now())
    ok = await client.post(
        "/auth/login/mfa", json={"mfa_token": token, "method": "totp", "code": good}
    )
    assert ok.status_code == 200
    by_code = await client.post(
        "/auth/login/mfa",
        json={"mfa_token": await mfa_token(client, "alice"), "method": "recovery_code",
              "code": codes[0]},
    )  # fmt: skip
    assert by_code.status_code == 200
    assert runtime.admin.mfa is not None
    await runtime.admin.mfa.reset("alice", actor="root")
    # A user removing their own authenticator (with a current code).
    await make_user("bob")
    bob_secret, bob_codes = await enrol(client, clock, "bob")
    signed = await client.post(
        "/auth/login/mfa",
        json={"mfa_token": await mfa_token(client, "bob"), "method": "recovery_code",
              "code": bob_codes[0]},
    )  # fmt: skip
    removed = await client.request(
        "DELETE",
        "/auth/mfa/totp",
        headers={"Authorization": f"Bearer {signed.json()['access_token']}"},
        json={"code": totp.code_at(bob_secret, clock.now())},
    )
    assert removed.status_code == 204
    after = await counts(client)
    delta = {key: after[key] - before[key] for key in EVENTS}
    assert delta == {
        ("enrolled", "totp"): 2,
        ("confirmed", "totp"): 2,
        ("challenge", "-"): 3,
        ("failed", "totp"): 1,
        ("verified", "totp"): 1,
        ("recovery_code_used", "-"): 2,
        ("verified", "recovery_code"): 2,
        ("reset", "-"): 1,
        ("removed", "totp"): 1,
    }
