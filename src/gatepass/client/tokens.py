"""The token pair the SDK holds, and where it can be kept between runs."""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from gatepass.client.errors import ServerError


@dataclass(frozen=True)
class TokenSet:
    """An access token, its refresh token (when the grant has one) and when they were issued.

    `expires_at` comes from the access token's `exp` claim when it is a JWT (the SDK reads it
    without verifying: the server it came from is the one that will check it), else from
    `expires_in` counted from when the answer arrived.
    """

    access_token: str
    refresh_token: str | None
    expires_at: float
    issued_at: float
    scope: str = ""
    token_type: str = "Bearer"
    session_id: str | None = None

    @classmethod
    def from_response(cls, body: Any, now: float) -> TokenSet:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ServerError("the server's token response has no access_token")
        access = body["access_token"]
        claims = unverified_claims(access)
        expires_in = body.get("expires_in")
        exp = claims.get("exp")
        iat = claims.get("iat")
        if isinstance(exp, int | float):
            expires_at = float(exp)
        elif isinstance(expires_in, int | float):
            expires_at = now + float(expires_in)
        else:
            expires_at = now + 300.0  # no hint at all: assume a short life, refresh early
        issued_at = float(iat) if isinstance(iat, int | float) else now
        refresh = body.get("refresh_token")
        session = body.get("session_id")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=expires_at,
            issued_at=issued_at,
            scope=str(body.get("scope") or ""),
            token_type=str(body.get("token_type") or "Bearer"),
            session_id=session if isinstance(session, str) else None,
        )

    def needs_refresh(self, now: float, margin: float) -> bool:
        """True within `margin` seconds of expiry; the margin never exceeds half the token's
        lifetime, so short-lived tokens are not refreshed on every request."""
        lifetime = max(0.0, self.expires_at - self.issued_at)
        return now >= self.expires_at - min(margin, lifetime / 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=float(data["expires_at"]),
            issued_at=float(data.get("issued_at", data["expires_at"])),
            scope=str(data.get("scope", "")),
            token_type=str(data.get("token_type", "Bearer")),
            session_id=data.get("session_id"),
        )


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified; {} for anything that is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


class TokenStore(Protocol):
    """Where a client keeps its tokens between runs. `load` returns None when nothing is
    stored for `base_url` (tokens are only ever sent back to the server that issued them)."""

    def load(self, base_url: str) -> TokenSet | None: ...

    def save(self, base_url: str, tokens: TokenSet) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    """Keeps tokens in this process only (for tests and for sharing between clients)."""

    def __init__(self) -> None:
        self.base_url: str | None = None
        self.tokens: TokenSet | None = None

    def load(self, base_url: str) -> TokenSet | None:
        return self.tokens if self.base_url == base_url else None

    def save(self, base_url: str, tokens: TokenSet) -> None:
        self.base_url, self.tokens = base_url, tokens

    def clear(self) -> None:
        self.base_url, self.tokens = None, None


class FileTokenStore:
    """A JSON file readable by its owner only (mode 0600, in a directory made 0700).

    Writes are atomic (a temporary file in the same directory, then a rename), so a crash
    never leaves half a token behind and a reader never sees one.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, base_url: str) -> TokenSet | None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable or corrupt: log in again rather than fail
        if not isinstance(data, dict) or data.get("base_url") != base_url:
            return None
        try:
            return TokenSet.from_dict(data["tokens"])
        except (KeyError, TypeError, ValueError):
            return None

    def read(self) -> dict[str, Any] | None:
        """The whole stored document (`base_url`, `tokens`, and any extra fields)."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, base_url: str, tokens: TokenSet, **extra: Any) -> None:
        previous = self.read() or {}
        document = {k: v for k, v in previous.items() if k not in ("base_url", "tokens")}
        if previous.get("base_url") not in (None, base_url):
            document = {}  # another server's extras do not carry over
        document.update(extra)
        document.update(base_url=base_url, tokens=tokens.to_dict())
        self.write(document)

    def write(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
