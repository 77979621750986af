"""Self-service accounts (issue 18): links sent by mail (password reset, invitations, email
verification), password change, own sessions, and passkeys (WebAuthn).

Like the rest of the core, nothing here imports a web framework, SQL or an SMTP client: mail
goes out through the `Mailer` port, state lives behind `AccountStore`.
"""
