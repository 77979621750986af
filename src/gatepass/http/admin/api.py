"""`AdminApi`: the admin REST API composed from its resources, and its route table.

The order of the route table is the order of `/openapi.json`'s paths.
"""

from __future__ import annotations

from gatepass.http.admin.apikeys import ApiKeyHandlers
from gatepass.http.admin.audit import AuditHandlers
from gatepass.http.admin.clients import ClientHandlers
from gatepass.http.admin.consents import ConsentHandlers
from gatepass.http.admin.issuers import IssuerHandlers
from gatepass.http.admin.keys import SigningKeyHandlers
from gatepass.http.admin.mfa import MfaHandlers
from gatepass.http.admin.orgs import OrgHandlers
from gatepass.http.admin.resources import ResourceHandlers
from gatepass.http.admin.sessions import SessionHandlers
from gatepass.http.admin.users import UserHandlers
from gatepass.http.openapi import Endpoint


class AdminApi(
    OrgHandlers,
    UserHandlers,
    MfaHandlers,
    ClientHandlers,
    ConsentHandlers,
    ApiKeyHandlers,
    ResourceHandlers,
    SessionHandlers,
    SigningKeyHandlers,
    IssuerHandlers,
    AuditHandlers,
):
    def endpoints(self) -> list[Endpoint]:
        return [
            *self.org_endpoints(),
            *self.role_endpoints(),
            *self.user_endpoints(),
            *self.mfa_endpoints(),
            *self.client_endpoints(),
            *self.consent_endpoints(),
            *self.api_key_endpoints(),
            *self.resource_endpoints(),
            *self.session_endpoints(),
            *self.signing_key_endpoints(),
            *self.issuer_endpoints(),
            *self.audit_endpoints(),
        ]
