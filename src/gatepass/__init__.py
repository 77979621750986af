"""gatepass: a self-hosted login and token service for HTTP APIs."""

__version__ = "0.1.0"
