"""The OAuth 2.0 surface: token (RFC 6749), revocation (RFC 7009), introspection (RFC 7662)
and metadata (RFC 8414). Protocol logic lives in `gatepass.core.oauth`; this package only
parses form bodies and client authentication, and renders results and RFC 6749 §5.2 errors."""

from gatepass.http.oauth2.api import OAuthApi

__all__ = ["OAuthApi"]
