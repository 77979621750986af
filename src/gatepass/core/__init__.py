"""The framework-free core: credentials, sessions, tokens, keys and policies.

Nothing under `gatepass.core` may import a web framework, SQL toolkit or HTTP client; a test
enforces it. Storage and limiter implementations are reached through the protocols in
`gatepass.core.ports`.
"""
