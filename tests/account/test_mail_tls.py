"""SMTP over TLS against real servers (issue 18: `GATEPASS_SMTP_URL`, TLS): aiosmtpd on
127.0.0.1 with a certificate made for the test (trusted through `SSL_CERT_FILE`, as an
operator's own CA would be), for implicit TLS (`smtps://`) and STARTTLS (`smtp://`); a server
that offers no STARTTLS gets neither the credentials nor the mail unless the operator allowed
plain text."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gatepass.adapters.mail import MailTemplates, SmtpMailer, smtp_target
from gatepass.core.errors import MailUnavailable
from tests.account.smtp import Mailbox, free_port, link_token

VALUES = {"site": "auth.example.test", "username": "alice", "link": "https://x/?token=abc"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) as PEM files."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Logins:
    """aiosmtpd's authenticator: accepts one user, records every attempt and whether the
    connection was encrypted when the credentials came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, bool]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        user, password = data.login.decode(), data.password.decode()
        with self.lock:
            encrypted = server.transport.get_extra_info("ssl_object") is not None
            self.seen.append((user, password, encrypted))
        return AuthResult(success=(user, password) == ("mailer@example.test", "p:ss"))


@contextmanager
def tls_server(
    certificate: tuple[Path, Path], *, implicit: bool = False, starttls: bool = True
) -> Iterator[tuple[Mailbox, Logins, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    mailbox, logins, port = Mailbox(), Logins(), free_port()
    options: dict[str, Any] = {"authenticator": logins, "auth_require_tls": True}
    if implicit:
        # aiosmtpd's TLS requirement knows STARTTLS only; this connection is TLS throughout.
        options |= {"ssl_context": context, "auth_require_tls": False}
    elif starttls:
        options["tls_context"] = context
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, logins, port
    finally:
        controller.stop()


def mailer(url: str, starttls: str = "required") -> SmtpMailer:
    return SmtpMailer(
        smtp_target(url, "Gate <no-reply@example.test>", starttls), MailTemplates(), 5
    )


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust the test's certificate as an operator trusts their CA (OpenSSL's SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


async def test_implicit_tls_delivers_with_credentials(certificate, trusted) -> None:
    with tls_server(certificate, implicit=True) as (mailbox, logins, port):
        await mailer(f"smtps://mailer%40example.test:p%3Ass@127.0.0.1:{port}").send(
            "alice@example.test", "password_reset", {**VALUES, "minutes": 30}
        )
        [message] = mailbox.wait_for("alice@example.test")
    assert link_token(message) == "abc"
    assert logins.seen == [("mailer@example.test", "p:ss", True)]


async def test_starttls_upgrades_before_the_credentials(certificate, trusted) -> None:
    with tls_server(certificate) as (mailbox, logins, port):
        await mailer(f"smtp://mailer%40example.test:p%3Ass@127.0.0.1:{port}").send(
            "bob@example.test", "password_reset", {**VALUES, "minutes": 30}
        )
        assert len(mailbox.wait_for("bob@example.test")) == 1
    assert logins.seen == [("mailer@example.test", "p:ss", True)]


async def test_an_untrusted_certificate_is_refused(certificate) -> None:
    """Without the operator trusting it, the test's certificate is a stranger's: no mail."""
    with (
        tls_server(certificate, implicit=True) as (mailbox, logins, port),
        pytest.raises(MailUnavailable),
    ):
        await mailer(f"smtps://mailer%40example.test:p%3Ass@127.0.0.1:{port}").send(
            "carol@example.test", "password_reset", {**VALUES, "minutes": 30}
        )
    assert (mailbox.received, logins.seen) == ([], [])


async def test_a_server_without_starttls_gets_nothing_when_it_is_required(certificate) -> None:
    with tls_server(certificate, starttls=False) as (mailbox, logins, port):
        with pytest.raises(MailUnavailable):
            await mailer(f"smtp://mailer%40example.test:p%3Ass@127.0.0.1:{port}").send(
                "dave@example.test", "password_reset", {**VALUES, "minutes": 30}
            )
        # Opportunistic (the operator's choice) sends in plain text, here without credentials.
        await mailer(f"smtp://127.0.0.1:{port}", "opportunistic").send(
            "dave@example.test", "password_reset", {**VALUES, "minutes": 30}
        )
        assert len(mailbox.wait_for("dave@example.test")) == 1
    assert logins.seen == []
