"""Have I Been Pwned's Pwned Passwords range API (k-anonymity): `GET {base}{5 hex digits}`
answers one `SUFFIX:COUNT` line per known hash with that prefix. Padding is asked for
(`Add-Padding: true`), so the answer's size does not tell the prefix either; padded entries
have count 0. A short timeout keeps a slow API from holding a password change."""

from __future__ import annotations

from gatepass.core.errors import UpstreamUnavailable


class PwnedPasswordsApi:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    async def range(self, prefix: str) -> dict[str, int]:
        # Imported here, on a password change: httpx (with its CLI's Rich and Pygments) costs
        # a server process ~20 MB otherwise (docs/performance.md, "Memory per worker").
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(
                    self.base_url + prefix,
                    headers={"Add-Padding": "true", "User-Agent": "gatepass"},
                )
        except httpx.HTTPError:
            raise UpstreamUnavailable("the Pwned Passwords API did not answer") from None
        if response.status_code != 200:
            raise UpstreamUnavailable(f"the Pwned Passwords API answered {response.status_code}")
        return _parse(response.text)


def _parse(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in text.splitlines():
        suffix, _, count = line.strip().partition(":")
        if len(suffix) == 35 and count.isdigit():
            found[suffix.upper()] = int(count)
    return found
