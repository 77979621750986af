"""The MFA tests talk to the real app over the ASGI transport, as tests/api does."""

from tests.api.conftest import client

__all__ = ["client"]
