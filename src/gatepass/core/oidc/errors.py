"""The authorization endpoint's two kinds of refusal (RFC 6749 §4.1.2.1).

`ErrorPage`: the client or redirect URI cannot be trusted, so the browser is told on our own
page and never redirected (no open redirector). `AuthorizationError`: everything else, sent
back to the client's registered redirect URI with `error`, `error_description`, `state` and
`iss` (RFC 9207).
"""

from __future__ import annotations

from typing import Any

from gatepass.core.errors import GatepassError


class ErrorPage(GatepassError):
    code = "invalid_request"
    default_description = "the sign-in request cannot be completed"


class AuthorizationError(GatepassError):
    """An OAuth/OpenID error code for the redirect: `code` is set per instance."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        # The checked part of the request (client, redirect URI, state, response mode), set
        # once those passed: where the error goes back to.
        self.request: Any = None
