"""The framework-free core: logins, sessions, tokens, keys, scopes, OAuth and administration.

Nothing under `gatepass.core` may import a web framework, SQL toolkit or HTTP client; a test
enforces it. Storage and limiter implementations are reached through the protocols in
`gatepass.core.ports`.
"""
