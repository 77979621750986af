"""Registered APIs as RFC 8707 resources: what a resource URI may be, and a token's audience.

A resource is named by an absolute URI without a fragment (RFC 8707 §2), compared exactly as
registered (no normalisation: `https://api.example.com` and `https://api.example.com/` are
two resources). A token asked for resources has them as its `aud`; a token asked for none
keeps gatepass's own audience, so verifiers written before resources existed keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from gatepass.core.errors import InvalidTarget
from gatepass.core.text import clip

MAX_URI_LENGTH = 512
MAX_PER_REQUEST = 10
# RFC 3986 §3.1 scheme, then something: an absolute URI (https://…, urn:…).
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")


def uri_problem(uri: str) -> str | None:
    """Why `uri` cannot name a resource, or None when it can."""
    if not uri or len(uri) > MAX_URI_LENGTH:
        return f"a resource URI is 1-{MAX_URI_LENGTH} characters"
    if not uri.isascii() or not uri.isprintable() or not _ABSOLUTE.match(uri):
        return f"{clip(uri)!r} is not an absolute URI (such as https://api.example.com)"
    if "#" in uri:
        return f"{clip(uri)!r} has a fragment; a resource URI must not (RFC 8707 §2)"
    return None


def parse_resources(values: Iterable[str]) -> tuple[str, ...]:
    """The resources a token request names, checked for form only (sorted, without
    repetition); whether they are registered is asked of storage later."""
    chosen = tuple(sorted(set(values)))
    if len(chosen) > MAX_PER_REQUEST:
        raise InvalidTarget(f"at most {MAX_PER_REQUEST} resources per request")
    for uri in chosen:
        problem = uri_problem(uri)
        if problem is not None:
            raise InvalidTarget(problem)
    return chosen


def issued_for(aud: object, default: str) -> bool:
    """Whether `aud` is one gatepass issues tokens with: its own audience, or resource URIs."""
    if aud == default:
        return True
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    return bool(values) and all(
        isinstance(value, str) and uri_problem(value) is None for value in values or ()
    )


def audience_claim(resources: Sequence[str], default: str) -> str | list[str]:
    """The `aud` claim: the one resource as a string, several as an array (RFC 7519 §4.1.3),
    gatepass's own audience when there are none."""
    if not resources:
        return default
    if len(resources) == 1:
        return resources[0]
    return list(resources)
