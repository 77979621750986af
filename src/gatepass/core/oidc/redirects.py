"""Redirect URIs and web origins: what may be registered, and when a requested one matches.

Matching is exact string comparison (RFC 9700 §4.1.3), with one exception: a registered
loopback IP redirect URI (`http://127.0.0.1/…` or `http://[::1]/…`) matches a request with any
port, since a native app listens on whatever port it was given (RFC 8252 §7.3). Nothing else
is normalised: `https://app.example/cb` and `https://app.example/cb/` are two URIs.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from gatepass.core.errors import InvalidRequest
from gatepass.core.text import clip

MAX_URI_LENGTH = 2048
MAX_URIS = 32
LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})
_LOOPBACK_HOSTS = LOOPBACK_IPS | {"localhost"}


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be registered as a redirect (or post-logout redirect) URI."""
    if not uri or len(uri) > MAX_URI_LENGTH or not uri.isascii() or not uri.isprintable():
        return f"a redirect URI is 1-{MAX_URI_LENGTH} printable ASCII characters"
    if " " in uri or "#" in uri:
        return f"{clip(uri)!r}: a redirect URI has no spaces and no fragment"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{clip(uri)!r} is not a valid URI"
    if parts.username is not None or parts.password is not None:
        return f"{clip(uri)!r}: a redirect URI carries no user name or password"
    if "*" in parts.netloc:
        return f"{clip(uri)!r}: wildcards are not allowed; register each URI exactly"
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return None
    if scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return None  # a native app's loopback listener (RFC 8252 §7.3)
    if "." in scheme and scheme not in ("http", "https") and parts.path:
        return None  # a native app's private-use scheme, such as com.example.app:/cb (§7.1)
    return (
        f"{clip(uri)!r}: use https, http on a loopback address, or a private-use scheme "
        "such as com.example.app:/callback"
    )


def web_origin_problem(origin: str) -> str | None:
    """Why `origin` cannot be registered as a web origin (scheme://host[:port], no path)."""
    problem = redirect_uri_problem(origin)
    if problem is not None:
        return problem.replace("redirect URI", "web origin")
    parts = urlsplit(origin)
    if origin != origin.lower():
        # Browsers send the origin in lower case; one registered otherwise would never match.
        return f"{clip(origin)!r}: write a web origin in lower case"
    if parts.scheme not in ("https", "http") or parts.path or parts.query or parts.username:
        return (
            f"{clip(origin)!r}: a web origin is scheme://host[:port], such as https://app.example"
        )
    return None


def checked(uris: Sequence[str], problem_of: Callable[[str], str | None]) -> tuple[str, ...]:
    """Registered values in the given order, without repetition; each checked."""
    unique = tuple(dict.fromkeys(uris))
    if len(unique) > MAX_URIS:
        raise InvalidRequest(f"at most {MAX_URIS} values")
    for uri in unique:
        problem = problem_of(uri)
        if problem is not None:
            raise InvalidRequest(problem)
    return unique


def redirect_matches(requested: str, registered: tuple[str, ...]) -> bool:
    """Whether the requested redirect URI is one registered (see the module doc)."""
    for candidate in registered:
        if hmac.compare_digest(requested.encode(), candidate.encode()):
            return True
        if _same_loopback_ignoring_port(requested, candidate):
            return True
    return False


def _same_loopback_ignoring_port(requested: str, registered: str) -> bool:
    try:
        want, got = urlsplit(registered), urlsplit(requested)
        got.port  # noqa: B018 - a malformed port never matches
    except ValueError:
        return False
    if want.scheme != "http" or want.hostname not in LOOPBACK_IPS:
        return False
    return (got.scheme, got.hostname, got.path, got.query, got.fragment, got.username) == (
        "http",
        want.hostname,
        want.path,
        want.query,
        "",
        None,
    )


def origin_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"
