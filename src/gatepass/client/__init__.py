"""gatepass.client: log in to gatepass once, never think about tokens again.

Depends on httpx and the standard library only — never on gatepass's server side — so it
installs alone (`pip install gatepass-client`, or `gatepass[client]`). See docs/sdk.md.
"""

from gatepass.client.aio import AsyncClient
from gatepass.client.auth import GatepassAuth
from gatepass.client.credentials import ADMIN_SCOPE
from gatepass.client.errors import (
    ClientConfigurationError,
    Conflict,
    ConnectionFailed,
    ExternalTokenRejected,
    Forbidden,
    GatepassError,
    InsufficientScope,
    InvalidCredentials,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    NotFound,
    NotLoggedIn,
    RateLimited,
    RefreshReuse,
    ServerError,
    TokenExpired,
    TokenRevoked,
    UnauthorizedClient,
    Unavailable,
)
from gatepass.client.options import ClientOptions
from gatepass.client.sync import Client
from gatepass.client.tokens import FileTokenStore, MemoryTokenStore, TokenSet, TokenStore

__all__ = [
    "ADMIN_SCOPE",
    "AsyncClient",
    "Client",
    "ClientConfigurationError",
    "ClientOptions",
    "Conflict",
    "ConnectionFailed",
    "ExternalTokenRejected",
    "FileTokenStore",
    "Forbidden",
    "GatepassAuth",
    "GatepassError",
    "InsufficientScope",
    "InvalidCredentials",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "InvalidToken",
    "MemoryTokenStore",
    "NotFound",
    "NotLoggedIn",
    "RateLimited",
    "RefreshReuse",
    "ServerError",
    "TokenExpired",
    "TokenRevoked",
    "TokenSet",
    "TokenStore",
    "UnauthorizedClient",
    "Unavailable",
]
