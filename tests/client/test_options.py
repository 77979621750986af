"""`ClientOptions` (issue 16): the SDK's arguments defined once, taken by both clients as the
same keyword arguments as before, enumerated from the dataclass."""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from pathlib import Path

import httpx
import pytest
from mypy import api as mypy_api

from gatepass.client import AsyncClient, Client, ClientConfigurationError, ClientOptions

FIELDS = [item.name for item in dataclasses.fields(ClientOptions)]
CLIENTS = [Client, AsyncClient]
URL = "https://auth.example.com"


def test_the_seventeen_arguments_and_the_connection_ones() -> None:
    assert FIELDS == [
        "username",
        "password",
        "client_id",
        "client_secret",
        "api_key",
        "refresh_token",
        "external_token",
        "scope",
        "resource",
        "tokens",
        "token_store",
        "refresh_margin",
        "retries",
        "backoff",
        "max_retry_wait",
        "clock",
        "timeout",
        "transport",
        "verify",
    ]


@pytest.mark.parametrize("kind", CLIENTS, ids=lambda kind: kind.__name__)
def test_each_client_takes_every_option_as_a_keyword(kind: type[Client | AsyncClient]) -> None:
    parameters = inspect.signature(kind).parameters
    assert list(parameters) == ["base_url", *FIELDS]
    for item in dataclasses.fields(ClientOptions):
        assert parameters[item.name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[item.name].default == item.default


@pytest.mark.parametrize("kind", CLIENTS, ids=lambda kind: kind.__name__)
def test_an_unknown_keyword_is_a_type_error(kind: type[Client | AsyncClient]) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'usrname'"):
        kind(URL, usrname="alice", password="pw")  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", CLIENTS, ids=lambda kind: kind.__name__)
def test_options_made_once_build_either_client(kind: type[Client | AsyncClient]) -> None:
    options = ClientOptions(client_id="svc", client_secret="s3cret", scope="a b", retries=5)
    client = kind.from_options(URL + "/", options)
    assert type(client) is kind
    assert client.base_url == URL
    assert client.credential_kind == "client_secret"
    assert client._engine.retry.retries == 5
    assert client._engine.credentials.scope == "a b"
    # At run time the URL may still be passed by name, as before (type checkers see it as
    # positional: a ParamSpec's Concatenate has positional parameters only).
    by_name = kind(base_url=URL, client_id="svc", client_secret="s3cret")  # type: ignore[call-arg]
    assert by_name.credential_kind == "client_secret"


def test_the_repr_leaves_the_secrets_out() -> None:
    shown = repr(ClientOptions(username="alice", password="pw-123", api_key="gpk_456"))
    assert "alice" in shown
    assert "pw-123" not in shown
    assert "gpk_456" not in shown


def test_a_transport_of_the_other_kind_is_refused() -> None:
    class SyncOnly(httpx.BaseTransport):
        pass

    class AsyncOnly(httpx.AsyncBaseTransport):
        pass

    with pytest.raises(ClientConfigurationError, match=r"httpx\.BaseTransport"):
        Client(URL, username="a", password="b", transport=AsyncOnly())
    with pytest.raises(ClientConfigurationError, match=r"httpx\.AsyncBaseTransport"):
        AsyncClient(URL, username="a", password="b", transport=SyncOnly())
    both = httpx.MockTransport(lambda request: httpx.Response(204))
    assert Client(URL, username="a", password="b", transport=both).credential_kind == "password"


def test_type_checkers_see_the_keywords(tmp_path: Path) -> None:
    """The keywords are typed for callers (a ParamSpec), not `**kwargs: Any`."""
    program = tmp_path / "caller.py"
    program.write_text(
        textwrap.dedent(
            """
            from gatepass.client import AsyncClient, Client
            Client("https://x", username="a", password="b", retries=3)
            AsyncClient("https://x", usrname="a")
            Client("https://x", retries="three")
            """
        )
    )
    out, _, status = mypy_api.run(
        ["--no-incremental", "--follow-imports=silent", "--strict", str(program)]
    )
    errors = [line.split(": error: ")[1] for line in out.splitlines() if ": error: " in line]
    assert status == 1
    assert len(errors) == 2, out
    assert 'Unexpected keyword argument "usrname"' in errors[0]
    assert '"retries"' in errors[1]
