"""gatepass.jose: the one copy of each JWT check, shared by the server and gatepass.verify.

- `refusal`  the `Refused` exception and its reasons (callers word them in their own errors)
- `header`   the header screen (size, parse, refused parameters), the pinned algorithm, and
             the signature step
- `claims`   the registered-claim checks (`iss`, `aud`, `exp`/`nbf`/`iat`, `sub`) against a
             caller's clock
- `keyset`   a key set cache with a refetch bound; the fetching itself (I/O) is the caller's

It imports only the standard library and PyJWT, never anything else of gatepass: the core
(`gatepass.core.tokens`, `gatepass.core.external`) and the API owners' library
(`gatepass.verify`, which must not import the server) both build on it.
"""
