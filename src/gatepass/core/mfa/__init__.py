"""Second factors (issue 18): TOTP (`totp`), recovery codes (`recovery`), the registry of
factor kinds and the `amr`/`acr` values (`factors`), stored values (`models`), and the service
that enrols, checks and resets them (`service`)."""
