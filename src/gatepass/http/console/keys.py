"""Console pages for credentials that are not passwords: users' API keys (list, revoke) and
the signing keys (list, rotate).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from gatepass.core.errors import NotFound
from gatepass.core.models import ApiKey, User
from gatepass.core.text import clip
from gatepass.http.console.base import (
    PAGE_SIZE,
    ConsoleBase,
    back_to,
    console_page,
    done_notice,
    offset_param,
    redirect,
)
from gatepass.http.console.session import ConsoleSession


class KeyPages(ConsoleBase):
    # ------------------------------------------------------------------ API keys

    @console_page()
    async def api_keys(self, request: Request, session: ConsoleSession) -> Response:
        offset = offset_param(request)
        keys = await self.gate.admin.list_api_keys()
        shown = keys[offset : offset + PAGE_SIZE]
        return self.render(
            "api_keys.html",
            session,
            section="api-keys",
            keys=shown,
            owners=await self._owners(shown),
            offset=offset,
            more=len(keys) > offset + PAGE_SIZE,
            page_size=PAGE_SIZE,
            now=self.gate.auth.clock.now(),
            notice=done_notice(request),
        )

    async def _owners(self, keys: Sequence[ApiKey]) -> dict[str, User | None]:
        owners: dict[str, User | None] = {}
        for key in keys:
            if key.user_id not in owners:
                try:
                    owners[key.user_id] = await self.gate.admin.get_user(key.user_id)
                except NotFound:
                    owners[key.user_id] = None
        return owners

    @console_page(change=True)
    async def revoke_api_key(self, request: Request, session: ConsoleSession) -> Response:
        key_id = request.path_params["key_id"]
        asked = self.confirmation(
            request,
            session,
            f"Revoke API key {clip(key_id)}? It stops working at once.",
            "Revoke",
            back_to(session.form, "/console/api-keys"),
        )
        if asked:
            return asked
        await self.gate.admin.revoke_api_key(key_id, actor=session.actor)
        return redirect(back_to(session.form, "/console/api-keys") + "?done=key-revoked")

    # ------------------------------------------------------------------ signing keys

    @console_page()
    async def signing_keys(self, request: Request, session: ConsoleSession) -> Response:
        return self.render(
            "signing_keys.html",
            session,
            section="signing-keys",
            keys=await self.gate.admin.list_signing_keys(),
            notice=done_notice(request),
        )

    @console_page(change=True)
    async def rotate_signing_key(self, request: Request, session: ConsoleSession) -> Response:
        asked = self.confirmation(
            request,
            session,
            "Make a new signing key? New tokens are signed with it; the current key keeps "
            "verifying (and stays in the JWKS) until every token it signed has expired.",
            "Rotate signing key",
            "/console/keys",
        )
        if asked:
            return asked
        await self.gate.admin.rotate_signing_key(actor=session.actor)
        return redirect("/console/keys?done=signing-key-rotated")
