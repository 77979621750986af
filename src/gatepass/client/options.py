"""`ClientOptions`: every argument a client takes besides its URL, defined once.

`Client` and `AsyncClient` take these as keyword arguments (`Client(url, username=...,
password=...)`), exactly as before there was a `ClientOptions`: `takes_options` gives their
one `__init__` the dataclass's keyword parameters, for type checkers (a ParamSpec) and for
`help()` (`__signature__`) alike, so that a new option is one field here and nothing else.
A program that configures a sync and an async client alike builds one `ClientOptions` and
passes it to `Client.from_options` / `AsyncClient.from_options`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec, TypeVar, cast

import httpx

from gatepass.client.credentials import ExternalToken
from gatepass.client.tokens import TokenSet, TokenStore

P = ParamSpec("P")
C = TypeVar("C")


@dataclass(frozen=True, kw_only=True)
class ClientOptions:
    """Credentials (exactly one kind: `username`+`password`, `client_id`+`client_secret`,
    `username`+`api_key`, `refresh_token`, or `external_token` with the `client_id`+
    `client_secret` of a client allowed the token-exchange grant), what to ask for, saved
    tokens, and how to retry and connect. Secrets are left out of the repr."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    # A string, or a callable returning a fresh one (the caller's identity provider's token).
    external_token: ExternalToken | None = field(default=None, repr=False)
    # Space-separated scopes to ask for (privileged ones are granted only when named).
    scope: str | None = None
    # RFC 8707: tokens for these registered APIs (their `aud`).
    resource: str | Sequence[str] | None = None
    # Saved tokens that skip the first login, or a store that loads and saves them.
    tokens: TokenSet | None = field(default=None, repr=False)
    token_store: TokenStore | None = None
    refresh_margin: float = 30.0  # seconds before expiry at which a token is renewed
    retries: int = 2  # retries of a request refused for a passing reason (429, 503, network)
    backoff: float = 0.5
    max_retry_wait: float = 30.0
    clock: Callable[[], float] = time.time
    timeout: float | httpx.Timeout | None = None  # None: 10 seconds
    # httpx's transport: a sync one for `Client`, an async one for `AsyncClient`.
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None
    verify: bool | str = True


def takes_options(
    options: Callable[P, ClientOptions],
) -> Callable[[Callable[[C, str, ClientOptions], None]], Callable[Concatenate[C, str, P], None]]:
    """Turn `__init__(self, base_url, options)` into `__init__(self, base_url, **options)`,
    the keywords being `ClientOptions`'s fields."""

    def decorate(
        init: Callable[[C, str, ClientOptions], None],
    ) -> Callable[Concatenate[C, str, P], None]:
        def with_keywords(self: C, base_url: str, *args: P.args, **kwargs: P.kwargs) -> None:
            init(self, base_url, options(*args, **kwargs))

        # The name and docstring of `__init__`, but not `functools.wraps`'s `__wrapped__`:
        # `inspect.signature` must show the keywords, not the (self, base_url, options) inside.
        with_keywords.__name__ = init.__name__
        with_keywords.__qualname__ = init.__qualname__
        with_keywords.__doc__ = init.__doc__
        fields = inspect.signature(options).parameters.values()
        with_keywords.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                inspect.Parameter("base_url", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                *fields,
            ],
            return_annotation=None,
        )
        # Concatenate makes `base_url` positional for type checkers; at run time it may still
        # be given by name, as before.
        return cast("Callable[Concatenate[C, str, P], None]", with_keywords)

    return decorate
