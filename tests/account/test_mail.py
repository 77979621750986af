"""The SMTP adapter against a real SMTP server: what is delivered, templates an operator
overrides, and settings that cannot work refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from gatepass.adapters.mail import MailTemplates, SmtpMailer, SmtpSettingsError, smtp_target
from gatepass.config import ConfigError, load_settings
from gatepass.core.errors import MailUnavailable
from tests.account.smtp import Mailbox, free_port, html_of, text_of

VALUES = {"site": "auth.example.test", "username": "alice", "link": "https://x/?token=abc&x=<b>"}


def mailer(port: int, templates: Path | None = None) -> SmtpMailer:
    target = smtp_target(f"smtp://127.0.0.1:{port}", "Gate <no-reply@example.test>", "off")
    return SmtpMailer(target, MailTemplates(templates), timeout=5)


def sent(template: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "gatepass_mail_sent_total", {"template": template, "outcome": outcome}
    )
    return value or 0.0


async def test_a_message_has_a_plain_text_and_an_html_part(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    before = sent("password_reset", "success")
    await mailer(port).send("alice@example.test", "password_reset", {**VALUES, "minutes": 30})
    [message] = mailbox.wait_for("alice@example.test")
    assert message["From"] == "Gate <no-reply@example.test>"
    assert message["To"] == "alice@example.test"
    assert message["Subject"] == "Reset your auth.example.test password"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "https://x/?token=abc&x=<b>" in text_of(message)
    assert "within 30 minutes" in text_of(message)
    # HTML is escaped: a value cannot inject markup.
    assert 'href="https://x/?token=abc&amp;x=&lt;b&gt;"' in html_of(message)
    assert sent("password_reset", "success") == before + 1


async def test_an_operator_overrides_one_part_and_keeps_the_others(
    smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    mailbox, port = smtp
    (tmp_path / "invitation.subject.txt").write_text("Welcome aboard, {{ username }}\n\n")
    await mailer(port, tmp_path).send(
        "bob@example.test", "invitation", {**VALUES, "username": "bob", "org": None, "hours": 168}
    )
    [message] = mailbox.wait_for("bob@example.test")
    assert message["Subject"] == "Welcome aboard, bob"
    assert "within 168 hours" in text_of(message)  # the package's own plain-text part


async def test_an_unreachable_server_is_mail_unavailable() -> None:
    before = sent("email_verification", "failure")
    with pytest.raises(MailUnavailable):
        await mailer(free_port()).send(
            "carol@example.test", "email_verification", {**VALUES, "email": "c@x", "hours": 24}
        )
    assert sent("email_verification", "failure") == before + 1


def test_implicit_tls_and_credentials_come_from_the_url() -> None:
    target = smtp_target("smtps://mailer%40example.test:p%3Ass@mail.example.test", "a@b.c", "off")
    assert (target.hostname, target.port, target.implicit_tls) == ("mail.example.test", 465, True)
    assert (target.username, target.password) == ("mailer@example.test", "p:ss")
    plain = smtp_target("smtp://mail.example.test", "x <a@b.c>", "required")
    assert (plain.port, plain.start_tls, plain.implicit_tls, plain.sender) == (
        587,
        True,
        False,
        "a@b.c",
    )
    assert smtp_target("smtp://m", "a@b.c", "opportunistic").start_tls is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"GATEPASS_SMTP_URL": "http://mail.example.test"},
            "GATEPASS_SMTP_URL must start with smtp:// or smtps://",
        ),
        ({"GATEPASS_SMTP_URL": "smtp://"}, "GATEPASS_SMTP_URL names no host"),
        ({"GATEPASS_SMTP_URL": "smtp://host:99999"}, "GATEPASS_SMTP_URL is not a URL"),
        ({"GATEPASS_SMTP_URL": "smtp://host/path"}, "GATEPASS_SMTP_URL has a path or query"),
        ({"GATEPASS_SMTP_URL": "smtp://u:secret@host"}, "GATEPASS_SMTP_FROM is required"),
        (
            {"GATEPASS_SMTP_URL": "smtp://u:secret@host", "GATEPASS_SMTP_FROM": "nobody"},
            "GATEPASS_SMTP_FROM 'nobody' is not an address",
        ),
        (
            {
                "GATEPASS_SMTP_URL": "smtp://h",
                "GATEPASS_SMTP_FROM": "a@b.c",
                "GATEPASS_MAIL_TEMPLATES_DIR": "/nonexistent/templates",
            },
            "mail_templates_dir /nonexistent/templates is not a directory",
        ),
        ({"GATEPASS_SMTP_STARTTLS": "sometimes"}, "GATEPASS_SMTP_STARTTLS: Input should be"),
    ],
)
def test_bad_mail_settings_are_one_line(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    [problem] = caught.value.problems
    assert problem.startswith(expected), problem
    assert "\n" not in problem
    assert "secret" not in problem  # the password in the URL is never repeated


def test_smtp_settings_error_is_a_value_error() -> None:
    with pytest.raises(SmtpSettingsError):
        smtp_target("smtp://h", None, "off")
