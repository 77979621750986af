"""The admin console: server-rendered pages, their templates and static files (no CDN, no
build step: everything it serves is in this package)."""

from gatepass.http.console.pages import Console

__all__ = ["Console"]
