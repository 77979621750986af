"""Self-service accounts (issue 18): the native API (api.py) and the /account pages."""
