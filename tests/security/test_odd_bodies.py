"""No request body makes a 5xx, on any route that takes one.

The routes come from the app's own route table, built with every surface on (all dialects,
the admin API, the console): every route and method accepting a body (POST, PUT, PATCH,
DELETE) is fuzzed, so a route added later is covered without anyone listing it. Each gets
generated JSON and form bodies — arbitrary Unicode with NUL and lone surrogates (as `\\u`
escapes and as raw invalid UTF-8), integers of thousands of digits, numbers beyond a double,
deep nesting, duplicate members, wrong types — and raw bytes, under several content types,
with path values naming things that exist or odd text. Most requests carry a valid admin
Bearer token and console session (fresh for each example, since an example may log out), so
the handlers behind authentication are reached too. It runs on SQLite and on PostgreSQL
(which refuses NUL in text), and nothing may be logged at ERROR.

Runs are deterministic (a fixed seed per route) and bounded: `EXAMPLES_PER_ROUTE` examples per
route. The routes are dealt into `SHARDS` tests per database (every `SHARDS`-th route of the
table, each shard with a world of its own), so that the two xdist workers share the work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from gatepass.app.container import Container, open_container, trusted_issuer
from gatepass.app.profiles import CONSOLE, NATIVE
from gatepass.config import IssuerConfig, Settings
from gatepass.core.errors import GatepassError
from gatepass.core.models import (
    AuthMethod,
    IssuedTokens,
    Principal,
    RequestContext,
    User,
)
from gatepass.core.scopes import ADMIN_SCOPE
from gatepass.http.admin import AdminApi
from gatepass.http.app import create_app
from gatepass.http.console import Console
from gatepass.http.console.session import LOGIN_COOKIE, SESSION_COOKIE
from tests.backends import PG_URL, migrated_pg_schema
from tests.conftest import PASSWORD, make_settings

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXAMPLES_PER_ROUTE = 20
SHARDS = 4
ADDRESS = "203.0.113.77"
ADMIN = "root-operator"  # never offered as a path value: no example can disable the admin
CLIENT_ID = "svc-client-0001"
CLIENT_SECRET = "svc-client-secret-0123456789"
LOGIN_VALUE = "login-form-value-0123456789"
CONTENT_TYPES = [
    None,
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/json; charset=utf-16",
    "application/octet-stream",
]
# Field names any surface reads (the documented ones are added per route from /openapi.json;
# the console's forms are not documented there).
FIELD_NAMES = [
    "username",
    "password",
    "password_confirm",
    "email",
    "display_name",
    "name",
    "org",
    "roles",
    "scopes",
    "scope",
    "metadata",
    "description",
    "expires_in",
    "confirmed",
    "back",
    "csrf",
    "login_csrf",
    "next",
    "client_id",
    "client_secret",
    "api_key",
    "refresh_token",
    "token",
    "secret",
    "secretKey",
    "isAPI",
    "grant_type",
    "user",
    "issuer",
    "subject",
]
# Placeholders replaced by live values before each request: real tokens, secrets, ids.
PLACEHOLDERS = [
    "@@refresh@@",
    "@@access@@",
    "@@api_key@@",
    "@@user_id@@",
    "@@session@@",
    "@@key_id@@",
    "@@login_csrf@@",
]
ALICE_TOKENS = ("@@refresh@@", "@@access@@")
KNOWN = ["alice", "alice@example.com", CLIENT_ID, CLIENT_SECRET, PASSWORD, "acme", "reader"]
KNOWN += ["idp", "gatepass:admin", "read", "password", "client_credentials", "yes", "true"]
ODD = ["", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\ud83dy", "\u2028", "\ufeff", "𝔘𝔫𝔦"]
ODD += ["A" * 5000, "%00", "\r\nX-Injected: 1", "../../etc/passwd", "'; DROP TABLE users; --"]
ODD += ["999999999999999d", "-1s", "https://" + "h" * 600, "a@" + "b" * 400]

any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=24)
# Odd values are drawn far more often than chance would: they are what is tested.
strings = st.one_of(
    st.sampled_from(ODD),
    st.sampled_from(ODD),
    st.builds(str.__add__, st.sampled_from(KNOWN), st.sampled_from(ODD[:10])),
    st.sampled_from(KNOWN),
    st.sampled_from(PLACEHOLDERS),
    any_text,
)


def json_string(text: str, escaped: bool) -> str:
    """A JSON string literal: NUL and surrogates as `\\u` escapes, or raw (surrogates then
    become invalid UTF-8 when the body is encoded)."""
    return json.dumps(text, ensure_ascii=escaped)


def json_object(members: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in members) + "}"


string_literals = st.builds(json_string, strings, st.booleans())
scalars = st.one_of(
    st.sampled_from(["null", "true", "false", "1e400", "-1e400", "NaN", "Infinity", "-0"]),
    st.integers().map(str),
    st.integers(min_value=19, max_value=6000).map(lambda digits: "9" * digits),
    st.sampled_from([str(2**63), str(2**64), "-" + "9" * 20, "9" * 20, "1e308", "5e-324"]),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    string_literals,
)
deep = st.integers(min_value=30, max_value=3000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)


def members(
    documented: list[str], keys: st.SearchStrategy[str], values: st.SearchStrategy[str]
) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Each of the route's documented members, most of them present, plus a few more (which
    may repeat one: duplicates); without documented members, a few well-known ones."""
    if not documented:
        return st.lists(st.tuples(st.sampled_from(FIELD_NAMES), values), min_size=1, max_size=6)
    present = st.tuples(*[st.one_of(st.none(), values, values, values) for _ in documented])
    return st.builds(
        lambda chosen, extra: (
            [(name, value) for name, value in zip(documented, chosen, strict=True) if value] + extra
        ),
        present,
        st.lists(st.tuples(keys, values), max_size=2),
    )


def json_bodies(documented: list[str]) -> st.SearchStrategy[str]:
    """Mostly objects of the route's own members whose values are mostly odd strings; else
    anything, member names included."""
    keys = st.sampled_from(documented or FIELD_NAMES) | strings
    values = st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
            | st.lists(st.tuples(keys.map(json.dumps), children), max_size=4).map(json_object)
        ),
        max_leaves=10,
    )
    field_values = st.one_of(string_literals, string_literals, values, deep)
    plausible = members(documented, keys, field_values).map(
        lambda pairs: [(json.dumps(name), value) for name, value in pairs]
    )
    arbitrary = st.lists(st.tuples(keys.map(json.dumps), values | deep), max_size=6)
    objects = st.one_of(plausible, plausible, plausible, arbitrary).map(json_object)
    return st.one_of(objects, objects, objects, values, deep)


def form_bodies(documented: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    keys = st.sampled_from(documented or FIELD_NAMES) | strings
    return members(documented, keys, strings) | st.lists(st.tuples(keys, strings), max_size=6)


@dataclass(frozen=True)
class Body:
    kind: str  # "json" (text), "form" (pairs), "raw" (bytes)
    payload: Any

    def render(self, live: dict[str, str]) -> bytes:
        if self.kind == "raw":
            return bytes(self.payload)
        if self.kind == "json":
            return substitute(self.payload, live).encode("utf-8", "surrogatepass")
        return "&".join(
            f"{form_quote(substitute(key, live))}={form_quote(substitute(value, live))}"
            for key, value in self.payload
        ).encode()


def substitute(text: str, live: dict[str, str]) -> str:
    for placeholder, value in live.items():
        text = text.replace(placeholder, value)
    return text


def form_quote(text: str) -> str:
    return quote_plus(text.encode("utf-8", "surrogatepass"))


def bodies(documented: list[str]) -> st.SearchStrategy[Body]:
    raw = st.binary(max_size=200) | st.sampled_from(
        [b"\xff\xfe{}", b'{"username": "\xed\xa0\x80"}', b"a=%ff&b=%00", b"\x00", b"=&&=%zz"]
    )
    json_body = json_bodies(documented).map(lambda text: Body("json", text))
    return st.one_of(
        json_body,
        json_body,
        json_body,
        form_bodies(documented).map(lambda pairs: Body("form", pairs)),
        raw.map(lambda data: Body("raw", data)),
    )


FORM = "application/x-www-form-urlencoded"
# Members kept usable in the explicit cases, so that the odd values reach the code behind
# them: a client id goes to client authentication only under a grant that needs it, an xpay
# username to the API-key login only with `isAPI`, a console change needs its confirmation.
# Two variants, since a member like `grant_type` takes one value at a time.
USABLE = [
    {"grant_type": "client_credentials", "isAPI": True, "confirmed": "yes"},
    {"grant_type": "password", "isAPI": False, "confirmed": "yes"},
]
USABLE_ALWAYS = {"login_csrf": "@@login_csrf@@"}
PATH_POOL = ["alice", "@@user_id@@", CLIENT_ID, "@@key_id@@", "@@session@@", "reader", "idp"]


def form_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def plus_member(body: Body, member: str) -> Body:
    return Body("json", body.payload[:-1] + "," + member + "}")


def odd_cases(documented: list[str]) -> list[tuple[str | None, Body]]:
    """Each class of odd input the issue names, in every member of the route at once: NUL,
    a lone surrogate (escaped, and as raw bytes), a 5,000-digit integer, 5,000 characters,
    the largest numbers the parser accepts, wrong types, deep nesting, a duplicate member,
    invalid UTF-8 in a form."""
    fields = [name for name in documented or FIELD_NAMES if name != "csrf"]

    def usable(variant: int) -> dict[str, Any]:
        return {**USABLE[variant], **USABLE_ALWAYS}

    def json_with(literal: str, variant: int = 0) -> Body:
        keep = usable(variant)
        pairs = [
            (json.dumps(name), json.dumps(keep[name]) if name in keep else literal)
            for name in fields
        ]
        return Body("json", json_object(pairs))

    def form_with(value: str, variant: int = 0) -> Body:
        keep = usable(variant)
        return Body("form", [(name, form_value(keep.get(name, value))) for name in fields])

    nul = json.dumps("a\x00b")
    return [
        ("application/json", json_with(nul)),
        ("application/json", json_with(nul, 1)),
        ("application/json", json_with(json.dumps("\ud800"))),
        ("text/plain", json_with(json.dumps("x\udfff"), 1)),
        (None, plus_member(json_with(nul), '"n":' + "9" * 5000)),
        ("text/plain", plus_member(json_with('"x"', 1), '"n":-' + "1" * 5000)),
        ("application/json", json_with(json.dumps("A" * 5000))),
        # The largest values the parser lets through: 20 digits, a 15-digit duration.
        ("application/json", json_with("9" * 20)),
        ("application/json", json_with(json.dumps("9" * 15 + "d"), 1)),
        ("application/json", json_with("1e400")),
        ("application/json", json_with("[]", 1)),
        ("application/json", json_with('{"a":null}')),
        ("application/json", Body("json", "[" * 3000 + "]" * 3000)),
        ("application/json", Body("json", '{"a":' * 500 + "1" + "}" * 500)),
        ("application/json", Body("json", '{"username":"a","username":"b","token":1,"token":2}')),
        ("application/json", Body("raw", b'{"username": "\xed\xa0\x80", "token": "\xff"}')),
        (FORM, form_with("a\x00b")),
        (FORM, form_with("a\x00b", 1)),
        (FORM, form_with("\ud800")),
        (FORM, Body("raw", b"username=%ff%fe&client_id=%ed%a0%80&token=%00&grant_type=%c0")),
    ]


# ---------------------------------------------------------------------- the world


@dataclass
class World:
    runtime: Container
    http: httpx.AsyncClient
    app: Starlette
    admin: Principal
    alice: User | None = None
    changed: bool = True  # the last request may have deleted or revoked something
    live: dict[str, str] = field(default_factory=dict)
    admin_token: str = ""
    console_token: str = ""
    console_csrf: str = ""

    async def refresh(self) -> None:
        """After a request that may have changed something (one that succeeded, or one that
        presented alice's tokens, which a refused refresh may revoke): whatever it deleted
        exists again, and tokens it revoked are replaced (the admin's minted for its principal
        directly; alice logs in again, re-enabled and her password reset if need be)."""
        if not self.changed and self.alice is not None:
            return
        self.alice = alice = await self._recreate()
        if not await self._usable(self.admin_token):
            self.admin_token = (await self._mint(self.admin, NATIVE)).access_token
        if not await self._usable(self.console_token, self.console_csrf):
            console = await self._mint(self.admin, CONSOLE)
            self.console_token, self.console_csrf = console.access_token, console.csrf or ""
        if not await self._usable_refresh(self.live.get("@@refresh@@", ""), alice.id):
            tokens = await self._alice_tokens()
            assert tokens.session is not None
            assert tokens.refresh_token is not None
            self.live.update(
                {
                    "@@refresh@@": tokens.refresh_token,
                    "@@access@@": tokens.access_token,
                    "@@session@@": tokens.session.id,
                }
            )
        self.live.update({"@@user_id@@": alice.id, "@@login_csrf@@": LOGIN_VALUE})

    async def _recreate(self) -> User:
        admin, storage = self.runtime.admin, self.runtime.storage
        if await storage.get_org("acme") is None:
            await admin.add_org("acme", "Acme", actor="test")
        if not await storage.get_roles(["reader"]):
            await admin.put_role("reader", ["read"], actor="test")
        alice = await storage.find_user("alice")
        if alice is None:
            alice = await admin.add_user(
                "alice", password=PASSWORD, email="alice@example.com", scopes=["read"],
                org="acme", roles=["reader"], actor="test",
            )  # fmt: skip
        key = await storage.get_api_key(self.live.get("@@key_id@@", ""))
        if key is None or key.revoked_at is not None or key.user_id != alice.id:
            created = await admin.add_api_key("alice", name="fuzz", actor="test")
            self.live.update({"@@key_id@@": created.key.id, "@@api_key@@": created.api_key})
        if await storage.get_client(CLIENT_ID) is None:
            await admin.add_client(
                "svc", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=["read"],
                grant_types=["client_credentials", "password", "refresh_token"], actor="test",
            )  # fmt: skip
        if not any(issuer.name == "idp" for issuer in await admin.list_issuers()):
            config = IssuerConfig(issuer="https://idp.invalid", name="idp", audiences=("gatepass",))
            await admin.add_issuer(trusted_issuer(config), actor="test")
        return alice

    async def _usable(self, token: str, csrf: str | None = None) -> bool:
        """Still valid (an example may have logged it out): minting costs more than checking."""
        try:
            await self.runtime.auth.verify_access(token, csrf=csrf)
        except GatepassError:
            return False
        return True

    async def _usable_refresh(self, token: str, user_id: str) -> bool:
        try:
            verified, _session = await self.runtime.auth.verify_refresh(token)
        except GatepassError:
            return False
        return verified.subject == user_id

    async def _alice_tokens(self) -> IssuedTokens:
        auth, admin = self.runtime.auth, self.runtime.admin
        ctx = RequestContext(surface="test", ip=ADDRESS)
        try:
            return await auth.login_password("alice", PASSWORD, scope=None, profile=NATIVE, ctx=ctx)
        except GatepassError:  # an example disabled alice or changed her password
            await admin.set_user_disabled("alice", False, actor="test")
            await admin.set_password("alice", PASSWORD, actor="test")
            return await auth.login_password("alice", PASSWORD, scope=None, profile=NATIVE, ctx=ctx)

    async def _mint(self, principal: Principal, profile: str) -> IssuedTokens:
        return await self.runtime.auth.login_principal(
            principal,
            scope=ADMIN_SCOPE,  # a privileged scope is granted only when asked for by name
            profile=profile,
            ctx=RequestContext(surface="test", ip=ADDRESS),
            method=AuthMethod.PASSWORD,
        )

    async def send(
        self, method: str, path: str, body: Body, content_type: str | None, signed_in: bool
    ) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        if signed_in:
            headers.update(
                {
                    "authorization": f"Bearer {self.admin_token}",
                    "x-csrf-token": self.console_csrf,
                    "cookie": f"{SESSION_COOKIE}={self.console_token}; "
                    f"{LOGIN_COOKIE}={LOGIN_VALUE}",
                }
            )
        self.http.cookies.clear()  # no example inherits another's cookies
        content = body.render(self.live)
        response = await self.http.request(method, path, content=content, headers=headers)
        presented = any(self.live[name].encode() in content for name in ALICE_TOKENS)
        self.changed = response.status_code < 400 or presented
        return response


def fuzz_settings(home: Path, **database: Any) -> Settings:
    return make_settings(
        home,
        dialects="all",
        console_enabled=True,
        login_failures_per_address=1_000_000,
        login_failures_per_account=1_000_000,
        **database,
    )


@asynccontextmanager
async def opened_world(backend: str, home: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        if backend == "postgres":
            schema = await stack.enter_async_context(migrated_pg_schema())
            settings = fuzz_settings(
                home, database_url=PG_URL, database_schema=schema, database_pool_size=10
            )
        else:
            settings = fuzz_settings(home)
        runtime = await open_container(settings, initialize=True)
        stack.push_async_callback(runtime.close)
        await runtime.admin.add_user(
            ADMIN, password=PASSWORD, scopes=["gatepass:admin"], actor="test"
        )
        signed_in = await runtime.auth.login_password(
            ADMIN, PASSWORD, scope=ADMIN_SCOPE, profile=NATIVE, ctx=RequestContext(surface="test")
        )
        verified = await runtime.auth.verify_access(signed_in.access_token)
        admin, _session = await runtime.auth.principal_for(verified)
        app = create_app(settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app, client=(ADDRESS, 40000))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )
        yield World(runtime, http, app, admin)


def body_routes(app: Starlette) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path template, path parameters) of every route that accepts a body."""
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) & BODY_METHODS):
                found.append((method, route.path, tuple(route.param_convertors)))
    return found


@dataclass(frozen=True)
class Documented:
    """A route's documented request body: its media type and each member's schema."""

    media_type: str | None = None
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.members)


def documented_body(openapi: dict[str, Any], path: str, method: str) -> Documented:
    operation = openapi["paths"].get(path, {}).get(method.lower(), {})
    for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
        schema = resolved(openapi, media.get("schema", {}))
        members = {name: resolved(openapi, sub) for name, sub in schema["properties"].items()}
        return Documented(media_type, members)  # the first documented media type
    return Documented()


def resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return dict(openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def benign(schema: dict[str, Any]) -> Any:
    """A well-typed value for a member's schema, so that an odd value in another member is
    what the route gets to (and not a type error in this one)."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return benign(option)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    return {"array": [], "object": {}, "boolean": False, "integer": 1, "number": 1}.get(
        str(kind), "alice"
    )


# One member at a time: NUL, 5,000 characters, the largest integer and duration the parser
# lets through, the wrong type.
ONE_MEMBER_ODD = ["a\x00b", "A" * 5000, 10**20 - 1, "9" * 15 + "d", {"a": None}]


def member_cases(documented: Documented) -> list[tuple[str | None, Body]]:
    """An odd value in each documented member in turn, the others well typed."""
    cases: list[tuple[str | None, Body]] = []
    values = {name: benign(schema) for name, schema in documented.members.items()}
    for name in documented.names:
        for odd in ONE_MEMBER_ODD:
            body = {**values, name: odd}
            if documented.media_type == FORM:
                if isinstance(odd, str):
                    pairs = [(key, form_value(value)) for key, value in body.items()]
                    cases.append((FORM, Body("form", pairs)))
            else:
                cases.append(("application/json", Body("json", json.dumps(body))))
    return cases


def path_values() -> st.SearchStrategy[str]:
    return st.sampled_from(PATH_POOL) | st.one_of(any_text, st.sampled_from(ODD))


def concrete_path(template: str, values: dict[str, str], live: dict[str, str]) -> str:
    path = template
    for name, value in values.items():
        raw = substitute(value, live).encode("utf-8", "surrogatepass")
        path = path.replace("{" + name + "}", quote(raw, safe=""))
    return path


# ---------------------------------------------------------------------- the test


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def shard_of(routes: list[RouteKey], shard: int) -> list[RouteKey]:
    """The routes one shard fuzzes: every `SHARDS`-th of the table, from the `shard`-th."""
    return routes[shard::SHARDS]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_body_makes_a_5xx_on_any_route(
    backend: str, shard: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with asyncio.Runner() as runner:
        context = opened_world(backend, tmp_path / "var")
        world = runner.run(context.__aenter__())
        try:
            openapi = runner.run(world.http.get("/openapi.json")).json()
            assert len(body_routes(world.app)) >= 40  # every surface: dialects, admin, console
            routes = shard_of(body_routes(world.app), shard)
            calls = {route: 0 for route in routes}
            past_the_door = {route: 0 for route in routes}
            for method, template, params in routes:
                fuzz_route(runner, world, openapi, (method, template, params), calls, past_the_door)
            runner.run(world.runtime.storage.audit.flush())
            guarded = admin_routes(world.app)
        finally:
            runner.run(context.__aexit__(None, None, None))
    least = len(odd_cases([])) + EXAMPLES_PER_ROUTE // 2
    assert min(calls.values()) >= least, calls
    # The admin session worked: every admin API and console route was reached behind it.
    assert [route for route in routes if route[:2] in guarded and not past_the_door[route]] == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


def admin_routes(app: Starlette) -> set[tuple[str, str]]:
    """(method, path) of the routes behind an admin token or console session, as the admin
    API and the console declare them."""
    gate = app.state.gate
    return {
        (endpoint.method, endpoint.path)
        for surface in (AdminApi(gate), Console(gate))
        for endpoint in surface.endpoints()
    }


def refused_at_the_door(response: httpx.Response) -> bool:
    """Not signed in, not allowed, or sent to the console's sign-in page."""
    location = response.headers.get("location", "")
    return response.status_code in {401, 403} or (
        response.status_code == 303
        and location.startswith(("/console/login?next=", "/console/login?done=session-expired"))
    )


RouteKey = tuple[str, str, tuple[str, ...]]


def fuzz_route(
    runner: asyncio.Runner,
    world: World,
    openapi: dict[str, Any],
    route: RouteKey,
    calls: dict[RouteKey, int],
    past_the_door: dict[RouteKey, int],
) -> None:
    method, template, params = route
    documented = documented_body(openapi, template, method)

    @given(
        body=bodies(documented.names),
        content_type=st.sampled_from(CONTENT_TYPES),
        signed_in=st.sampled_from([True, True, True, False]),
        values=st.fixed_dictionaries({name: path_values() for name in params}),
    )
    # A seed of the route's own: deterministic runs, different bodies for different routes.
    @seed(zlib.crc32(f"{method} {template}".encode()))
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(
        body: Body, content_type: str | None, signed_in: bool, values: dict[str, str]
    ) -> None:
        calls[route] += 1
        runner.run(world.refresh())
        path = concrete_path(template, values, world.live)
        response = runner.run(world.send(method, path, body, content_type, signed_in))
        assert response.status_code < 500, (method, path, content_type, repr(body)[:500])
        assert "Traceback" not in response.text
        past_the_door[route] += not refused_at_the_door(response)

    # The named classes first, each in every member at once; then generated bodies.
    cases = odd_cases(documented.names) + member_cases(documented)
    for number, (content_type, body) in enumerate(cases):
        value = "a\x00b" if number == 0 else PATH_POOL[number % len(PATH_POOL)]
        check = example(body, content_type, True, {name: value for name in params})(check)
    check()


def test_the_route_table_is_read_not_listed(tmp_path: Path) -> None:
    """A route added to the app is fuzzed: the list comes from the app itself."""
    app = create_app(fuzz_settings(tmp_path / "var"))
    extra = Route("/added-later", lambda request: None, methods=["PATCH"])
    app.router.routes.append(extra)
    assert ("PATCH", "/added-later", ()) in body_routes(app)
    assert ("POST", "/admin/users/{user}/disable", ("user",)) in body_routes(app)
    # The shards together fuzz every route, each route once.
    dealt = [route for shard in range(SHARDS) for route in shard_of(body_routes(app), shard)]
    assert sorted(dealt) == sorted(body_routes(app))
    assert len(dealt) == len(set(dealt))
