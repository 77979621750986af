"""Registration-time checks of a browser-facing client's metadata (issue 17): redirect URIs,
post-logout redirect URIs, web origins (CORS) and the ID-token signing algorithm.

Each check raises `InvalidRequest` with one line naming the value and what to change, so the
CLI, admin API and console show the same message. Matching a presented redirect URI against
the registered ones (exact, except the loopback port of native apps) belongs to the
authorization endpoint; this module only decides what may be registered.

Rules (RFC 9700 §4.1, RFC 8252 §7, OAuth 2.1 §2.3.1):
- absolute (`scheme:` then more), no fragment, no user:password part, no wildcard;
- `https://host/...`, or `http://` only on a loopback host (`127.0.0.1`, `[::1]`, `localhost`)
  for native and development apps, or a private-use scheme for native apps, which must be a
  reverse domain name (`com.example.app:/callback`, RFC 8252 §7.1) so that it cannot be
  `javascript:`, `data:` or another browser-interpreted scheme.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from gatepass.core.errors import InvalidRequest
from gatepass.core.text import clip

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")
DEFAULT_ID_TOKEN_ALGORITHM = "RS256"
MAX_URIS = 32
MAX_URI_LENGTH = 2000
# RFC 8252 §7.1: a reverse-domain-name scheme (at least one dot), RFC 3986 scheme characters.
_PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def is_loopback(host: str | None) -> bool:
    return (host or "").lower() in LOOPBACK_HOSTS


def check_redirect_uri(uri: str, what: str = "redirect URI") -> str:
    """One redirect URI as registered, or `InvalidRequest` saying what is wrong with it."""
    shown = clip(uri)
    if not uri or len(uri) > MAX_URI_LENGTH or uri != uri.strip() or any(c.isspace() for c in uri):
        raise InvalidRequest(f"{what} {shown!r} must be 1-{MAX_URI_LENGTH} characters, no spaces")
    if not _SCHEME.match(uri):
        raise InvalidRequest(f"{what} {shown!r} must be absolute (https://host/path)")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise InvalidRequest(f"{what} {shown!r} is not a valid URI") from None
    if "#" in uri:
        raise InvalidRequest(f"{what} {shown!r} must not have a fragment (#...)")
    if "*" in uri:
        raise InvalidRequest(f"{what} {shown!r} must not contain a wildcard: register each URI")
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        if not parts.hostname:
            raise InvalidRequest(f"{what} {shown!r} must be absolute (https://host/path)")
        if parts.username is not None or parts.password is not None:
            raise InvalidRequest(f"{what} {shown!r} must not contain a user or password")
        if scheme == "http" and not is_loopback(parts.hostname):
            raise InvalidRequest(
                f"{what} {shown!r} must use https (plain http only on 127.0.0.1, [::1] "
                "or localhost)"
            )
        return uri
    if _PRIVATE_USE_SCHEME.fullmatch(scheme):
        return uri
    raise InvalidRequest(
        f"{what} {shown!r} must use https, http on a loopback address, or a private-use "
        "scheme for native apps such as com.example.app:/callback"
    )


def check_redirect_uris(uris: Iterable[str], what: str = "redirect URI") -> tuple[str, ...]:
    """Registered URIs in the order given, duplicates dropped."""
    checked = tuple(dict.fromkeys(check_redirect_uri(uri, what) for uri in uris))
    if len(checked) > MAX_URIS:
        raise InvalidRequest(f"at most {MAX_URIS} {what}s per client")
    return checked


def check_web_origin(origin: str) -> str:
    """A CORS origin exactly as browsers send it (`scheme://host[:port]`), lower-cased."""
    shown = clip(origin)
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        raise InvalidRequest(f"web origin {shown!r} is not a valid origin") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname or "*" in origin:
        raise InvalidRequest(f"web origin {shown!r} must be scheme://host[:port], no wildcard")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidRequest(
            f"web origin {shown!r} must be scheme://host[:port] with no path, not even '/'"
        )
    if scheme == "http" and not is_loopback(parts.hostname):
        raise InvalidRequest(
            f"web origin {shown!r} must use https (plain http only on 127.0.0.1, [::1] "
            "or localhost)"
        )
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"https": 443, "http": 80}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


def check_web_origins(origins: Iterable[str]) -> tuple[str, ...]:
    checked = tuple(dict.fromkeys(check_web_origin(origin) for origin in origins))
    if len(checked) > MAX_URIS:
        raise InvalidRequest(f"at most {MAX_URIS} web origins per client")
    return checked


def check_id_token_algorithm(alg: str) -> str:
    if alg not in ID_TOKEN_ALGORITHMS:
        raise InvalidRequest(
            f"ID-token algorithm {clip(alg)!r} is not supported; choose "
            + " or ".join(ID_TOKEN_ALGORITHMS)
        )
    return alg
