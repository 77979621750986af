"""The admin REST API under `/admin/…`: orgs, roles, users, clients, API keys, registered
APIs (resources), sessions, signing keys, trusted issuers, the audit log and the dashboard.

Every call needs a Bearer access token carrying the `gatepass:admin` scope, and the principal
must still hold that scope now (a role taken away stops working at once, not when the token
expires). Each handler parses, makes one `AdminService` call (which validates and audits it
with the acting admin's name), and renders the entity with `gatepass.views` in the native JSON
shape, errors included.

Lists share one envelope: `{"items": [...], "next": "/admin/…?…" | null}`, where `next` is the
path of the following page. Pages are `limit`/`offset` except the audit log, which pages by
`before_id` (new events arriving between two pages do not shift it). Secrets (a client
secret, an API key) appear only in the response that creates or rotates them.

One module per resource (`orgs.py` with roles, `users.py`, `clients.py`, `apikeys.py`,
`resources.py`, `sessions.py`, `keys.py`, `issuers.py` with identity links, `audit.py` with the
dashboard), each holding its request models, handlers and routes; `base.py` holds what they
share, `api.py` composes them. A new resource is a new module and one line in `api.py`.
"""

from gatepass.http.admin.api import AdminApi

__all__ = ["AdminApi"]
