"""OpenID Connect provider (issue 17): browser sign-in with the authorization code flow.

One module per idea: `models` (codes, sign-in sessions, consents), `clients` (registering and
changing OIDC clients, consents as the admin sees them), `redirects` (redirect URI matching),
`authorize` (the authorization request as a list of small named checks), `codes` (issuing and
redeeming codes), `id_token`, `userinfo`, `signin` (hosted login and SSO sessions), `consent`
and `logout`. Nothing here knows HTTP; `gatepass.http.oidc` renders it.
"""
