"""Outgoing mail over SMTP (the core's `Mailer` port), with aiosmtplib.

`GATEPASS_SMTP_URL` names the server: `smtp://[USER:PASSWORD@]HOST[:PORT]` (port 587 by
default, upgraded with STARTTLS as `smtp_starttls` says) or `smtps://...` (implicit TLS, port
465). User and password are percent-decoded, so `@` or `:` in them are written `%40`, `%3A`.

Each message has three templates, found first in `mail_templates_dir` (an operator's own) and
then among the package's defaults: `NAME.subject.txt`, `NAME.txt` (plain text) and
`NAME.html` (HTML, autoescaped). An operator may override any one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import jinja2

from gatepass.core.errors import MailUnavailable
from gatepass.observability.metrics import MAIL_SENT

log = logging.getLogger("gatepass.mail")

DEFAULT_TEMPLATES = Path(__file__).parent / "mail_templates"
_PORTS = {"smtp": 587, "smtps": 465}
# smtp_starttls -> aiosmtplib's start_tls (None: upgrade only if the server offers it)
_STARTTLS: dict[str, bool | None] = {"required": True, "opportunistic": None, "off": False}


class SmtpSettingsError(ValueError):
    """The SMTP settings cannot work; the message is one line saying what to change."""


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    start_tls: bool | None  # None: if the server offers it (aiosmtplib's meaning)
    sender: str  # the bare address, for the envelope
    from_header: str  # as configured, with a display name if any


def smtp_target(url: str, from_address: str | None, starttls: str) -> SmtpTarget:
    """The server `url` names, or SmtpSettingsError in one line (the password never shown)."""
    forms = "use smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SmtpSettingsError(f"GATEPASS_SMTP_URL is not a URL: {forms}") from None
    scheme = parts.scheme.lower()
    if scheme not in _PORTS:
        raise SmtpSettingsError(f"GATEPASS_SMTP_URL must start with smtp:// or smtps://: {forms}")
    if not parts.hostname:
        raise SmtpSettingsError(f"GATEPASS_SMTP_URL names no host: {forms}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpSettingsError(f"GATEPASS_SMTP_URL has a path or query it cannot use: {forms}")
    if not from_address:
        raise SmtpSettingsError(
            "GATEPASS_SMTP_FROM is required with GATEPASS_SMTP_URL: "
            "set it to e.g. 'gatepass <no-reply@example.com>'"
        )
    _, sender = parseaddr(from_address)
    if "@" not in sender or any(ch.isspace() for ch in sender):
        raise SmtpSettingsError(
            f"GATEPASS_SMTP_FROM {from_address!r} is not an address: "
            "use e.g. 'gatepass <no-reply@example.com>'"
        )
    implicit = scheme == "smtps"
    return SmtpTarget(
        hostname=parts.hostname,
        port=port or _PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        start_tls=False if implicit else _STARTTLS[starttls],
        sender=sender,
        from_header=from_address,
    )


class MailTemplates:
    """The three parts of each message, the operator's directory first."""

    def __init__(self, override: Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if override is not None:
            loaders.append(jinja2.FileSystemLoader(override))
        loaders.append(jinja2.FileSystemLoader(DEFAULT_TEMPLATES))
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, values: Mapping[str, Any]) -> tuple[str, str, str]:
        """(subject, plain text, HTML) of message `name`."""
        subject = self._env.get_template(f"{name}.subject.txt").render(values)
        text = self._env.get_template(f"{name}.txt").render(values)
        html = self._env.get_template(f"{name}.html").render(values)
        # A subject is one header line, whatever the template's author left in it.
        return " ".join(subject.split()), text, html


class SmtpMailer:
    def __init__(self, target: SmtpTarget, templates: MailTemplates, timeout: float) -> None:
        self.target = target
        self.templates = templates
        self.timeout = timeout

    def compose(self, to: str, template: str, values: Mapping[str, Any]) -> EmailMessage:
        subject, text, html = self.templates.render(template, values)
        message = EmailMessage()
        message["From"] = self.target.from_header
        message["To"] = str(Address(addr_spec=to))
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.target.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message

    async def send(self, to: str, template: str, values: Mapping[str, Any]) -> None:
        message = self.compose(to, template, values)
        target = self.target
        try:
            await aiosmtplib.send(
                message,
                sender=target.sender,
                recipients=[to],
                hostname=target.hostname,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.implicit_tls,
                start_tls=target.start_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            MAIL_SENT.labels(template, "failure").inc()
            # The reason, never the credentials (aiosmtplib's messages hold none).
            log.warning("mail %s not delivered: %s", template, type(exc).__name__)
            raise MailUnavailable() from None
        MAIL_SENT.labels(template, "success").inc()
