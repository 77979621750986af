"""AdminService: managing orgs, users, roles, clients, API keys, registered APIs, trusted
issuers, signing keys and sessions — one module per resource, composed here.

Used by the CLI, the admin API and the console alike. Every change is validated here (names,
scopes, the org and roles it refers to), audited with its actor, and takes effect on tokens at
once: disabling or deleting a principal revokes its sessions, rotating a client secret too.
Generated secrets are returned exactly once and stored only as digests.
"""

from __future__ import annotations

from gatepass.core.admin.api_keys import MAX_API_KEY_LIFETIME, ApiKeys, NewApiKey
from gatepass.core.admin.clients import Clients, NewClient
from gatepass.core.admin.directory import OrgsAndRoles
from gatepass.core.admin.issuers import Issuers
from gatepass.core.admin.operations import Operations
from gatepass.core.admin.resources import Resources
from gatepass.core.admin.users import MAX_PASSWORD, MIN_PASSWORD, Users, check_password


class AdminService(OrgsAndRoles, Users, Clients, ApiKeys, Resources, Issuers, Operations):
    """Every admin operation; the constructor is `AdminBase`'s (its dependencies)."""


__all__ = [
    "MAX_API_KEY_LIFETIME",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "AdminService",
    "NewApiKey",
    "NewClient",
    "check_password",
]
